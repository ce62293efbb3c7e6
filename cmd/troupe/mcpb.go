package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"
)

// newMcpbCmd is `troupe mcpb`, hidden: what `make mcpb` runs to build the one-click bundle for
// Claude Desktop (DESIGN §15), its manifest generated from the tool registry.
func newMcpbCmd() *cobra.Command {
	var goos string
	cmd := &cobra.Command{
		Use:    "mcpb",
		Short:  "Build the MCP bundle (.mcpb) that installs troupe in Claude Desktop with one click",
		Hidden: true,
		Args:   cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if goos != "linux" && goos != "darwin" {
				return fmt.Errorf("--os %q: troupe's bundles are for linux and darwin", goos)
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&goos, "os", runtime.GOOS, "the system the bundled binary is built for: linux or darwin")
	manifest := &cobra.Command{
		Use:   "manifest [--os GOOS]",
		Short: "Print the bundle's manifest.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(buildManifest(goos, version))
		},
	}
	var binary, out string
	pack := &cobra.Command{
		Use:   "pack --out FILE.mcpb [--binary FILE] [--os GOOS]",
		Short: "Write the bundle: manifest.json, the troupe binary and an icon, zipped",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				binary = exe
			}
			if err := writeBundle(out, buildManifest(goos, version), binary); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s, troupe %s)\n", out, goos, mcpbVersion(version))
			return nil
		},
	}
	pack.Flags().StringVar(&out, "out", "", "the .mcpb file to write")
	pack.Flags().StringVar(&binary, "binary", "", "the troupe binary to bundle, built for --os (default this one)")
	_ = pack.MarkFlagRequired("out")
	cmd.AddCommand(manifest, pack)
	return cmd
}
