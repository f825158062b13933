package redisstore_test

import (
	"log"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/redisstore"
)

// A fleet of services logging in as one integration user shares one session:
// one of them logs in, the others wait for its token.
func ExampleNew() {
	loginURL, consumerKey, username := "https://acme.my.salesforce.com", "3MVG9...", "integration@acme.com"
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", Password: os.Getenv("REDIS_PASSWORD")})
	store, err := redisstore.New(rdb, redisstore.Options{
		Key:           auth.StoreKey(loginURL, consumerKey, username),
		EncryptionKey: []byte(os.Getenv("SFMTLS_TOKEN_KEY")), // 32 bytes: AES-256-GCM at rest
	})
	if err != nil {
		log.Fatal(err)
	}
	var source auth.TokenSource // e.g. an *auth.JWTBearer
	cache := auth.NewCache(source, auth.CacheOptions{Store: store})
	_ = cache
}
