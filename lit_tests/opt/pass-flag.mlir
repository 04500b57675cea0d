// A per-pass flag appends the pass like `-p` does: same output.
// RUN: flowcompile-opt %s --strip-profiles > %t.flag
// RUN: flowcompile-opt %s -p strip-profiles > %t.pipeline
// RUN: diff %t.flag %t.pipeline
// RUN: filecheck %s < %t.flag

// CHECK:     flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
// CHECK-NOT: profiles
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0>}}
  flow.return %0
}
