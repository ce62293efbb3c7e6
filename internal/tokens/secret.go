package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// Prefix starts every token, so a leaked one is recognizable (secret scanners, logs).
const Prefix = "troupe_"

// newToken returns a fresh token: Prefix and 32 random bytes, base64url without padding.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return Prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is the hex SHA-256 of token. A plain, unsalted, fast hash is right here: a token
// carries 256 random bits, so there is nothing for a salt or a slow KDF to protect against
// (those are for low-entropy passwords), and it keeps every request's check cheap.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// match finds the entry whose hash is token's. Every entry is compared in constant time and the
// loop does not stop early, so the time taken says nothing about the stored hashes.
func match(entries []entry, token string) (entry, bool) {
	want := []byte(hashToken(token))
	var found entry
	ok := false
	for _, e := range entries {
		if subtle.ConstantTimeCompare([]byte(e.Hash), want) == 1 {
			found, ok = e, true
		}
	}
	return found, ok
}

// authenticate is Authenticate over a parsed file.
func authenticate(entries []entry, token string) (Record, error) {
	e, ok := match(entries, token)
	if !ok {
		return Record{}, ErrUnknown
	}
	if e.Revoked() {
		return e.Record, ErrRevoked
	}
	return e.Record, nil
}
