// Round trip of every flow op: custom form, generic form, and byte identity.
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s --print-op-generic | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: flowcompile-opt %s --print-op-generic | filecheck %s --check-prefix=CHECK-GENERIC

// CHECK:      builtin.module {
// CHECK-NEXT:   flow.workflow @ops(%q: !flow.msg) -> !flow.msg {
flow.workflow @ops(%q: !flow.msg) -> !flow.msg {
// CHECK-NEXT:     %0 = flow.agent @plan(%q) {role = "planner", prompt = "Plan \22{q}\22", args = ["q"], models = ["m1", "m2"], budgets = [0, 1024], recovery = 0.25}
  %0 = flow.agent @plan(%q) {budgets = [0, 1024], role = "planner", models = ["m1", "m2"], prompt = "Plan \"{q}\"", args = ["q"], recovery = 0.25}
// CHECK-NEXT:     %1 = flow.agent @polish(%0) {role = "editor", models = ["m1"], budgets = [0], optional = "pass"}
  %1 = flow.agent @polish(%0) {role = "editor", models = ["m1"], budgets = [0], optional = "pass"}
// CHECK-NEXT:     %2, %3, %4 = flow.fork {
  %2, %3, %4 = flow.fork {
// CHECK-NEXT:       %5 = flow.agent @s1(%q, %1) {role = "solver", models = ["m1"], budgets = [0]}
    %5 = flow.agent @s1(%q, %1) {role = "solver", models = ["m1"], budgets = [0]}
// CHECK-NEXT:       flow.yield %5
    flow.yield %5
// CHECK-NEXT:     } {
  } {
// CHECK-NEXT:       %6 = flow.agent @s2(%q, %1) {role = "solver", models = ["m2"], budgets = [0]}
    %6 = flow.agent @s2(%q, %1) {role = "solver", models = ["m2"], budgets = [0]}
// CHECK-NEXT:       flow.yield %6
    flow.yield %6
// CHECK-NEXT:     } {
  } {
// CHECK-NEXT:       flow.yield %1
    flow.yield %1
// CHECK-NEXT:     }
  }
// CHECK-NEXT:     %7 = flow.fork @f attributes {samples = [1, 3, 5]} {
  %7 = flow.fork @f attributes {samples = [1, 3, 5]} {
// CHECK-NEXT:       %8 = flow.agent @sampler(%1) {role = "solver", models = ["m1"], budgets = [0]}
    %8 = flow.agent @sampler(%1) {role = "solver", models = ["m1"], budgets = [0]}
// CHECK-NEXT:       flow.yield %8
    flow.yield %8
// CHECK-NEXT:     }
  }
// CHECK-NEXT:     %9 = flow.vote(%2, %3, %4, %7) {method = "majority"}
  %9 = flow.vote(%2, %3, %4, %7) {method = "majority"}
// CHECK-NEXT:     %10 = flow.agent @router(%9) {role = "router", models = ["m1"], budgets = [0]}
  %10 = flow.agent @router(%9) {role = "router", models = ["m1"], budgets = [0]}
// CHECK-NEXT:     %11 = flow.switch %10 attributes {probs = [0.7, 0.2, 0.1]} case "math" {
  %11 = flow.switch %10 attributes {probs = [0.7, 0.2, 0.1]} case "math" {
// CHECK-NEXT:       flow.yield %2
    flow.yield %2
// CHECK-NEXT:     } case "code" {
  } case "code" {
// CHECK-NEXT:       %12 = flow.agent @coder(%10) {role = "coder", models = ["m2"], budgets = [0]}
    %12 = flow.agent @coder(%10) {role = "coder", models = ["m2"], budgets = [0]}
// CHECK-NEXT:       flow.yield %12
    flow.yield %12
// CHECK-NEXT:     } case "other" {
  } case "other" {
// CHECK-NEXT:       flow.yield %9
    flow.yield %9
// CHECK-NEXT:     }
  }
// CHECK-NEXT:     %13 = flow.loop @l iter(%cur = %11) attributes {max_iters = [1, 2, 3], pass_rate = 0.5} {
  %13 = flow.loop @l iter(%cur = %11) attributes {max_iters = [1, 2, 3], pass_rate = 0.5} {
// CHECK-NEXT:       %c = flow.agent @critic(%cur) {role = "critic", models = ["m1"], budgets = [0]}
    %c = flow.agent @critic(%cur) {role = "critic", models = ["m1"], budgets = [0]}
// CHECK-NEXT:       %r = flow.agent @reviser(%cur, %c) {role = "reviser", models = ["m2"], budgets = [256]}
    %r = flow.agent @reviser(%cur, %c) {role = "reviser", models = ["m2"], budgets = [256]}
// CHECK-NEXT:       flow.until %c, %r
    flow.until %c, %r
// CHECK-NEXT:     }
  }
// CHECK-NEXT:     flow.return %13
  flow.return %13
// CHECK-NEXT:   }
}

// Several inputs and outputs, a two-result switch, a loop carrying two messages.
// Result numbers continue from the workflow above, so they are matched, not pinned.
// CHECK-NEXT:   flow.workflow @pair(%a: !flow.msg, %b: !flow.msg) -> !flow.msg, !flow.msg {
flow.workflow @pair(%a: !flow.msg, %b: !flow.msg) -> !flow.msg, !flow.msg {
// CHECK-NEXT:     [[K:%[0-9]+]], [[S:%[0-9]+]] = flow.switch %a case "keep" {
  %0, %1 = flow.switch %a case "keep" {
// CHECK-NEXT:       flow.yield %a, %b
    flow.yield %a, %b
// CHECK-NEXT:     } case "swap" {
  } case "swap" {
// CHECK-NEXT:       flow.yield %b, %a
    flow.yield %b, %a
// CHECK-NEXT:     }
  }
// CHECK-NEXT:     [[X:%[0-9]+]], [[Y:%[0-9]+]] = flow.loop @l iter(%x = [[K]], %y = [[S]]) attributes {max_iters = [2]} {
  %2, %3 = flow.loop @l iter(%x = %0, %y = %1) attributes {max_iters = [2]} {
// CHECK-NEXT:       %v = flow.vote(%x, %y) {method = "majority"}
    %v = flow.vote(%x, %y) {method = "majority"}
// CHECK-NEXT:       flow.until %v, %y, %x
    flow.until %v, %y, %x
// CHECK-NEXT:     }
  }
// CHECK-NEXT:     flow.return [[X]], [[Y]]
  flow.return %2, %3
// CHECK-NEXT:   }
}

// No inputs, no outputs.
// CHECK-NEXT:   flow.workflow @empty() {
flow.workflow @empty() {
// CHECK-NEXT:     flow.return
  flow.return
// CHECK-NEXT:   }
}
// CHECK-NEXT: }

// The generic form: properties in <{...}>, dense arrays, typed floats.
// CHECK-GENERIC:      "flow.workflow"() <{sym_name = "ops", function_type = (!flow.msg) -> !flow.msg}> ({
// CHECK-GENERIC-NEXT: ^bb0(%q: !flow.msg):
// CHECK-GENERIC-NEXT:   %0 = "flow.agent"(%q) <{sym_name = "plan", budgets = array<i64: 0, 1024>, role = "planner", models = ["m1", "m2"], prompt = "Plan \22{q}\22", args = ["q"], recovery = 2.500000e-01 : f64}> : (!flow.msg) -> !flow.msg
// CHECK-GENERIC-NEXT:   %1 = "flow.agent"(%0) <{sym_name = "polish", role = "editor", models = ["m1"], budgets = array<i64: 0>, optional = "pass"}> : (!flow.msg) -> !flow.msg
// CHECK-GENERIC:        %2, %3, %4 = "flow.fork"() ({
// CHECK-GENERIC:        }) : () -> (!flow.msg, !flow.msg, !flow.msg)
// CHECK-GENERIC-NEXT:   %7 = "flow.fork"() <{sym_name = "f", samples = array<i64: 1, 3, 5>}> ({
// CHECK-GENERIC:        %9 = "flow.vote"(%2, %3, %4, %7) <{method = "majority"}> : (!flow.msg, !flow.msg, !flow.msg, !flow.msg) -> !flow.msg
// CHECK-GENERIC:        %11 = "flow.switch"(%10) <{labels = ["math", "code", "other"]}> ({
// CHECK-GENERIC:        }) {probs = array<f64: 7.000000e-01, 2.000000e-01, 1.000000e-01>} : (!flow.msg) -> !flow.msg
// CHECK-GENERIC-NEXT:   %13 = "flow.loop"(%11) <{sym_name = "l", max_iters = array<i64: 1, 2, 3>}> ({
// CHECK-GENERIC-NEXT:   ^bb0(%cur: !flow.msg):
// CHECK-GENERIC:          "flow.until"(%c, %r) : (!flow.msg, !flow.msg) -> ()
// CHECK-GENERIC-NEXT:   }) {pass_rate = 5.000000e-01 : f64} : (!flow.msg) -> !flow.msg
// CHECK-GENERIC-NEXT:   "flow.return"(%13) : (!flow.msg) -> ()
