// Package messages holds the plain structs exchanged between the MCP tool handlers and the actors:
// commands named imperatively (CreateSession), their replies (…Result) and the typed error codes.
// It holds data only and imports no other troupe package.
package messages
