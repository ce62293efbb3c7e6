package main

import "regexp"

// optionalString is a string flag for which an empty value, or an MCP bundle's placeholder
// left unexpanded, means "not given": the setting keeps its environment, file or default value.
//
// troupe's bundle (`troupe mcpb pack`) passes its optional settings as
// "--flag=${user_config.KEY}". A setting left empty in Claude Desktop becomes "--flag=", and one
// that has no value at all keeps the placeholder as it is: replaceVariables in the official
// loader (anthropics/mcpb src/shared/config.ts, getMcpConfigForManifest) replaces only the
// variables it has, and keeps "${user_config.KEY}" for the others. Either must mean the
// default, not a directory named "${user_config.data_dir}".
type optionalString struct{ p *string }

// unexpandedPlaceholder is what the mcpb loader leaves for a user_config key without a value.
var unexpandedPlaceholder = regexp.MustCompile(`^\$\{user_config\.[^}]*\}$`)

// Set implements pflag.Value.
func (o optionalString) Set(v string) error {
	if unexpandedPlaceholder.MatchString(v) {
		v = ""
	}
	*o.p = v
	return nil
}

// String implements pflag.Value (pflag may call it on a zero value to render defaults).
func (o optionalString) String() string {
	if o.p == nil {
		return ""
	}
	return *o.p
}

// Type implements pflag.Value: "string", so that cmd.Flags().GetString reads it.
func (o optionalString) Type() string { return "string" }
