// Custom printers keep discardable attributes: a `note` on every flow op, in
// generic form, prints in the custom form and parses back unchanged.
// RUN: flowcompile-opt %s | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: flowcompile-opt %s | flowcompile-opt --print-op-generic > %t.g && flowcompile-opt %s --print-op-generic | diff - %t.g

// CHECK:      flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {m = #flow.model<provider = "openai/m">}, note = "kept?"} {
// CHECK-NEXT:   %0 = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0, 1024], recovery = 0.25, note = "kept?"}
// CHECK-NEXT:   %1, %2 = flow.fork attributes {note = "kept?"} {
// CHECK-NEXT:     flow.yield %0 {note = "kept?"}
// CHECK-NEXT:   } {
// CHECK-NEXT:     flow.yield %q {note = "kept?"}
// CHECK-NEXT:   }
// CHECK-NEXT:   %3 = flow.fork @f attributes {samples = [1, 3], note = "kept?"} {
// CHECK-NEXT:     %4 = flow.agent @s(%0) {role = "solver", models = ["m"], budgets = [0], note = "kept?"}
// CHECK-NEXT:     flow.yield %4 {note = "kept?"}
// CHECK-NEXT:   }
// CHECK-NEXT:   %5 = flow.vote(%1, %2, %3) {method = "majority", note = "kept?"}
// CHECK-NEXT:   %6 = flow.switch %5 attributes {probs = [0.25, 0.75], note = "kept?"} case "x" {
// CHECK-NEXT:     flow.yield %5 {note = "kept?"}
// CHECK-NEXT:   } case "y" {
// CHECK-NEXT:     flow.yield %0 {note = "kept?"}
// CHECK-NEXT:   }
// CHECK-NEXT:   %7 = flow.loop @l iter(%c = %6) attributes {max_iters = [1, 2], note = "kept?"} {
// CHECK-NEXT:     %8 = flow.agent @critic(%c) {role = "critic", models = ["m"], budgets = [0], note = "kept?"}
// CHECK-NEXT:     flow.until %8, %c {note = "kept?"}
// CHECK-NEXT:   }
// CHECK-NEXT:   flow.return %7 {note = "kept?"}
// CHECK-NEXT: }
// CHECK-NEXT: flow.workflow @empty() attributes {note = "kept?"} {
// CHECK-NEXT:   flow.return {note = "kept?"}
// CHECK-NEXT: }
// CHECK-NEXT: flow.config_set @p for @w {note = "kept?", points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 0>}>]}

"builtin.module"() ({
  "flow.workflow"() <{sym_name = "w", function_type = (!flow.msg) -> !flow.msg, pool = {m = #flow.model<provider = "openai/m">}}> ({
  ^bb0(%q: !flow.msg):
    %0 = "flow.agent"(%q) <{sym_name = "a", role = "solver", models = ["m"], budgets = array<i64: 0, 1024>, recovery = 2.500000e-01 : f64}> {note = "kept?"} : (!flow.msg) -> !flow.msg
    %1, %2 = "flow.fork"() ({
      "flow.yield"(%0) {note = "kept?"} : (!flow.msg) -> ()
    }, {
      "flow.yield"(%q) {note = "kept?"} : (!flow.msg) -> ()
    }) {note = "kept?"} : () -> (!flow.msg, !flow.msg)
    %3 = "flow.fork"() <{sym_name = "f", samples = array<i64: 1, 3>}> ({
      %4 = "flow.agent"(%0) <{sym_name = "s", role = "solver", models = ["m"], budgets = array<i64: 0>}> {note = "kept?"} : (!flow.msg) -> !flow.msg
      "flow.yield"(%4) {note = "kept?"} : (!flow.msg) -> ()
    }) {note = "kept?"} : () -> !flow.msg
    %5 = "flow.vote"(%1, %2, %3) <{method = "majority"}> {note = "kept?"} : (!flow.msg, !flow.msg, !flow.msg) -> !flow.msg
    %6 = "flow.switch"(%5) <{labels = ["x", "y"]}> ({
      "flow.yield"(%5) {note = "kept?"} : (!flow.msg) -> ()
    }, {
      "flow.yield"(%0) {note = "kept?"} : (!flow.msg) -> ()
    }) {probs = array<f64: 2.500000e-01, 7.500000e-01>, note = "kept?"} : (!flow.msg) -> !flow.msg
    %7 = "flow.loop"(%6) <{sym_name = "l", max_iters = array<i64: 1, 2>}> ({
    ^bb0(%c: !flow.msg):
      %8 = "flow.agent"(%c) <{sym_name = "critic", role = "critic", models = ["m"], budgets = array<i64: 0>}> {note = "kept?"} : (!flow.msg) -> !flow.msg
      "flow.until"(%8, %c) {note = "kept?"} : (!flow.msg, !flow.msg) -> ()
    }) {note = "kept?"} : (!flow.msg) -> !flow.msg
    "flow.return"(%7) {note = "kept?"} : (!flow.msg) -> ()
  }) {note = "kept?"} : () -> ()
  "flow.workflow"() <{sym_name = "empty", function_type = () -> ()}> ({
    "flow.return"() {note = "kept?"} : () -> ()
  }) {note = "kept?"} : () -> ()
  "flow.config_set"() <{sym_name = "p", workflow = @w, points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 0>}>]}> {note = "kept?"} : () -> ()
}) : () -> ()
