module github.com/sfmtls/sfmtls/bench

go 1.24.0

require github.com/sfmtls/sfmtls v0.0.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/pavlo-v-chernykh/keystore-go/v4 v4.5.0 // indirect
	golang.org/x/crypto v0.48.0 // indirect
	golang.org/x/oauth2 v0.35.0
	software.sslmate.com/src/go-pkcs12 v0.7.4 // indirect
)

replace github.com/sfmtls/sfmtls => ../
