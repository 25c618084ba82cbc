package lang_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang"
)

// TestMetaBlocks pins what moved, import and lifecycle blocks decode to:
// the valid case's want.json covers the resources, this the rest.
func TestMetaBlocks(t *testing.T) {
	_, cfg, diags := loadArchive(t, "testdata/valid/moved_import_lifecycle.txtar")
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", dump(diags))
	}
	type move struct{ From, To string }
	var moves []move
	for _, m := range cfg.Moved {
		moves = append(moves, move{m.From, m.To})
	}
	wantMoves := []move{
		{"source.generator.orders", "source.generator.orders_v2"},
		{"source.generator.orders_v2", "source.generator.orders_v3"},
		{"topic.europe", `topic.regional["eu"]`},
	}
	if diff := cmp.Diff(wantMoves, moves); diff != "" {
		t.Errorf("moved (-want +got):\n%s", diff)
	}
	type imp struct{ To, ID string }
	var imports []imp
	for _, i := range cfg.Imports {
		imports = append(imports, imp{i.To, i.ID})
	}
	if diff := cmp.Diff([]imp{{"topic.orders", "shop.orders"}, {`topic.regional["eu"]`, "shop.eu"}}, imports); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
	type lc struct {
		PreventDestroy, IgnoreAll bool
		IgnoreChanges             []string
	}
	got := map[string]lc{}
	for _, tp := range cfg.Topics {
		got[tp.Address] = lc{tp.Lifecycle.PreventDestroy, tp.Lifecycle.IgnoreAll, tp.Lifecycle.IgnoreChanges}
	}
	for _, p := range cfg.Pipelines {
		got[p.Address] = lc{p.Lifecycle.PreventDestroy, p.Lifecycle.IgnoreAll, p.Lifecycle.IgnoreChanges}
	}
	want := map[string]lc{
		"topic.orders":               {PreventDestroy: true, IgnoreChanges: []string{"partitions", `config["retention.ms"]`}},
		`topic.regional["eu"]`:       {IgnoreAll: true},
		`topic.regional["us"]`:       {IgnoreAll: true},
		"source.generator.orders_v3": {IgnoreChanges: []string{"rate", "tasks"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lifecycle (-want +got):\n%s", diff)
	}
	var zero lang.Lifecycle
	if cfg.Topics[0].Lifecycle.DeclRange == zero.DeclRange {
		t.Error("the lifecycle block's range is not kept")
	}
}

// TestGroupImport pins what an import block with consumer_group decodes to.
func TestGroupImport(t *testing.T) {
	_, cfg, diags := loadArchive(t, "testdata/valid/import_consumer_group.txtar")
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", dump(diags))
	}
	type imp struct{ To, ID, Group, Topic, Connector string }
	var got []imp
	for _, i := range cfg.Imports {
		got = append(got, imp{i.To, i.ID, i.ConsumerGroup, i.ConnectOffsetsTopic, i.Connector})
	}
	want := []imp{
		{"topic.orders", "orders", "", "", ""},
		{"sink.file.orders_out", "", "connect-orders-out", "", ""},
		{"source.file.logs", "", "", "connect-offsets", "local-file-source"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
}
