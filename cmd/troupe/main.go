// Command troupe is an MCP server and CLI that orchestrates long-lived sessions of agents and
// browser pages for AI clients. See README.md and DESIGN.md.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}
