// --print-ir-after-all prints the IR to stderr after every pass, in pipeline
// order; the result itself still goes to the output (here -o, so stderr only).
// RUN: flowcompile-opt %s -p strip-profiles,cse --print-ir-after-all -o %t 2>&1 | filecheck %s

// CHECK:      // -----// IR Dump After strip-profiles //----- //
// CHECK-NEXT: builtin.module {
// CHECK-NOT:  profiles
// CHECK:      // -----// IR Dump After cse //----- //
// CHECK-NEXT: builtin.module {
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0>}}
  flow.return %0
}
