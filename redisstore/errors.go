package redisstore

import "errors"

// ErrURL marks a Redis URL that ParseURL cannot use.
var ErrURL = errors.New("redisstore: not a Redis URL")

// ErrPlaintextOverEncrypted is Save's answer on a Store without an
// EncryptionKey when the token is stored encrypted: the encrypted token stays,
// and the process keeps its own login. Its Fix says to give the process the
// key the others have.
var ErrPlaintextOverEncrypted error = plaintextOverEncrypted{}

type plaintextOverEncrypted struct{}

func (plaintextOverEncrypted) Error() string {
	return "redisstore: save refused: the stored token is encrypted and this store has no EncryptionKey, " +
		"so its token would be stored in the clear"
}

// Fix says how to mend it.
func (plaintextOverEncrypted) Fix() string {
	return "give this process the EncryptionKey the others use (the sfmtls tool: SF_TOKEN_ENCRYPTION_KEY or --token-encryption-key-file)"
}
