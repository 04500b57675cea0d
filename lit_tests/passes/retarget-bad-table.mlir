// A speed table that cannot be used is one located diagnostic, status 1.
// RUN: not flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds-garbage.json"}' 2>&1 | filecheck %s --check-prefix=GARBAGE
// RUN: not flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds-negative.json"}' 2>&1 | filecheck %s --check-prefix=NEGATIVE
// RUN: not flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/absent.json"}' 2>&1 | filecheck %s --check-prefix=ABSENT
// RUN: not flowcompile-opt %s -p retarget 2>&1 | filecheck %s --check-prefix=NONE

// GARBAGE: retarget-bad-table.mlir:15:1: error: retarget: {{.*}}speeds-garbage.json:3:14: the speed table is not JSON: Expecting property name enclosed in double quotes
// GARBAGE-NOT: Traceback
// NEGATIVE: error: retarget: {{.*}}speeds-negative.json: model 's': decode_tok_per_s must be > 0, got -200.0
// NEGATIVE-NOT: Traceback
// ABSENT: error: retarget: {{.*}}absent.json: cannot read the speed table: No such file or directory
// NONE: error: retarget: retarget needs speeds=PATH (a table from flowcompile bench-latency)
// NONE-NOT: Traceback

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solve(%q) {role = "solver", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0, tok_in = 50.0, tok_out = 201.0>}}
  flow.return %s
}
