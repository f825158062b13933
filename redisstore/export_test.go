package redisstore

// Seal frames plain as s stores key's token, for tests that store bytes s did
// not encode.
func Seal(s *Store, key string, plain []byte) ([]byte, error) {
	n, err := s.names(key)
	if err != nil {
		return nil, err
	}
	return s.seal(n.token, plain)
}
