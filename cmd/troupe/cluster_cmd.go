package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/cluster"
)

func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "See the daemons that form one troupe on etcd (the [cluster] table of troupe.toml)",
		Long: "Several troupe daemons form one troupe when each has a [cluster] table in its troupe.toml:\n\n" +
			"  [cluster]\n" +
			"  node = \"a\"                                # unique among the nodes\n" +
			"  advertise = \"10.0.0.1:7801\"               # where the other nodes reach this one\n" +
			"  etcd = [\"http://10.0.0.9:2379\"]           # the etcd cluster\n" +
			"  lease_seconds = 10                        # a node silent this long loses its sessions\n" +
			"  blob_dir = \"/mnt/troupe\"                  # a directory every node shares\n\n" +
			"Sessions are placed on the least-loaded node and never move while it lives; when a node is\n" +
			"lost the others take its sessions over.",
	}
	cmd.AddCommand(newClusterStatusCmd())
	return cmd
}

func newClusterStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the cluster's nodes, whether they are alive, and how many sessions each owns",
		Long: "Read the cluster's nodes and session owners from etcd (the [cluster] table of this data dir's\n" +
			"troupe.toml names it), without joining. --json prints {\"nodes\": [{\"node\", \"address\", \"alive\",\n" +
			"\"sessions\", ...}], \"orphans\": [...]}; orphans are sessions of a lost node not taken over yet.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, serveFlags{})
			if err != nil {
				return err
			}
			if !cfg.Clustered() {
				return fmt.Errorf("%s has no [cluster] table: this daemon runs alone (troupe cluster --help shows the table)", cfg.DataDir)
			}
			st, err := cluster.ReadStatus(cmd.Context(), cfg.Cluster.WithDefaults())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printClusterStatus(cmd.OutOrStdout(), st)
			if len(st.Nodes) == 0 {
				return errors.New("no node is alive in this cluster")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printClusterStatus(w io.Writer, st cluster.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tALIVE\tSESSIONS\tUP")
	for _, n := range st.Nodes {
		up := "-"
		if !n.Started.IsZero() {
			up = time.Since(n.Started).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%s\n", n.Node, n.Address, n.Alive, n.Sessions, up)
	}
	_ = tw.Flush()
	if len(st.Orphans) > 0 {
		fmt.Fprintf(w, "\n%d sessions of a lost node wait to be taken over: %v\n", len(st.Orphans), st.Orphans)
	}
}
