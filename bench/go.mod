module github.com/sfmtls/sfmtls/bench

go 1.24.5

require (
	github.com/k-capehart/go-salesforce/v3 v3.1.0
	github.com/klauspost/compress v1.18.0
	github.com/sfmtls/sfmtls v0.0.0
)

require (
	github.com/forcedotcom/go-soql v0.0.0-20240507183026-011ceab61b9e // indirect
	github.com/go-viper/mapstructure/v2 v2.5.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/jszwec/csvutil v1.10.0 // indirect
	github.com/spf13/afero v1.15.0 // indirect
	golang.org/x/text v0.34.0 // indirect
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/pavlo-v-chernykh/keystore-go/v4 v4.5.0 // indirect
	golang.org/x/crypto v0.48.0 // indirect
	golang.org/x/oauth2 v0.35.0
	software.sslmate.com/src/go-pkcs12 v0.7.4 // indirect
)

replace github.com/sfmtls/sfmtls => ../
