// Package config resolves troupe's configuration: flags over TROUPE_* environment variables over
// troupe.toml over defaults (DESIGN §8), and the data directory (DESIGN §5).
package config
