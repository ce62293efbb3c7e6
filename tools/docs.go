package tools

import (
	"fmt"
	"sort"
	"strings"
)

// MarkdownTable renders the tool catalogue for the README: name, what it does, its arguments
// (required ones in bold) and whether it only reads.
func MarkdownTable(tools []Tool) string {
	var b strings.Builder
	b.WriteString("| tool | what it does | arguments | read-only |\n| --- | --- | --- | --- |\n")
	for _, t := range tools {
		req := map[string]bool{}
		for _, r := range t.Tool.InputSchema.Required {
			req[r] = true
		}
		names := make([]string, 0, len(t.Tool.InputSchema.Properties))
		for name := range t.Tool.InputSchema.Properties {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool {
			if req[names[i]] != req[names[j]] {
				return req[names[i]]
			}
			return names[i] < names[j]
		})
		args := make([]string, len(names))
		for i, n := range names {
			if req[n] {
				args[i] = "**`" + n + "`**"
			} else {
				args[i] = "`" + n + "`"
			}
		}
		desc, _, _ := strings.Cut(t.Tool.Description, ". ")
		desc = strings.TrimSuffix(desc, ".") + "."
		ro := "no"
		if !t.Mutating() {
			ro = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", t.Tool.Name, strings.ReplaceAll(desc, "|", "\\|"), strings.Join(args, ", "), ro)
	}
	return b.String()
}
