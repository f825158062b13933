package redisstore_test

import (
	"log"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/redisstore"
)

// A fleet of services logging in as one integration user shares one session:
// one of them logs in, the others wait for its token. The client names the
// session's entry from the login URL, consumer key and username, so every
// process of that identity (and the sfmtls tool, given the same Redis) finds
// the same one.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", Password: os.Getenv("REDIS_PASSWORD")})
	store, err := redisstore.New(rdb, redisstore.Options{
		EncryptionKey: []byte(os.Getenv("SFMTLS_TOKEN_KEY")), // 32 bytes: AES-256-GCM at rest
	})
	if err != nil {
		log.Fatal(err)
	}
	var cfg client.Config // the org: login URL, consumer key, username, identities
	cfg.Store = store
	c, err := client.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}
