// Per-query outcomes, what the joint vote and aggregator rules compose: on the
// mixture example with 8 simulated queries, every proposer candidate reads
// only the query, so it has an outcome on each of the 8 (`hits`, one digit
// per query, no gap); the aggregator (three proposals) has one outcome string
// per level j = 0..3 of right proposals (`level_hits`: four rows of 8, joined
// by '|'), '.' where no input at that level could be made for a query.
// RUN: flowcompile-opt %examples/mixture.mlir -p 'profile{samples=8 max-samples=0 cache=none}' 2>/dev/null | filecheck %s

// CHECK: %proposer_a = flow.agent @proposer_a(%query)
// CHECK-SAME: "qwen3-1.7b@0" = #flow.profile<{{[^>]*}}, hits = "{{[01][01][01][01][01][01][01][01]}}">
// CHECK-LABEL: %answer = flow.agent @aggregator(%query, %0, %1, %2)
// CHECK-SAME: "qwen3-8b@0" = #flow.profile<{{[^>]*}}, by_right_n = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}],
// CHECK-SAME: hits = "{{[01.]+}}", level_hits = "{{[01.][01.][01.][01.][01.][01.][01.][01.]}}|{{[01.][01.][01.][01.][01.][01.][01.][01.]}}|{{[01.][01.][01.][01.][01.][01.][01.][01.]}}|{{[01.][01.][01.][01.][01.][01.][01.][01.]}}">
