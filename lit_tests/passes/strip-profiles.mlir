// strip-profiles drops what profiling and the proxy wrote (profiles, branch
// probabilities, loop statistics, estimates) and keeps the choice spaces,
// roles, prompts, structure knobs and config sets.
// RUN: flowcompile-opt %s -p strip-profiles | filecheck %s
// RUN: flowcompile-opt %s -p strip-profiles | filecheck %s --check-prefix=GONE

// GONE-NOT: {{profiles|probs|pass_rate|[ {]iters =|estimate|#flow.profile|wrong_agree}}

// CHECK-LABEL: flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {m = #flow.model<provider = "openai/m">}} {
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {m = #flow.model<provider = "openai/m">}, estimate = #flow.estimate<acc = 0.5, lat = 2.0>} {
  // CHECK-NEXT: %0 = flow.agent @a(%q) {role = "solver", prompt = "Solve {q}", args = ["q"], models = ["m"], budgets = [0, 1024], recovery = 0.1, optional = "pass"}
  %0 = flow.agent @a(%q) {role = "solver", prompt = "Solve {q}", args = ["q"], models = ["m"], budgets = [0, 1024], recovery = 0.1, optional = "pass", profiles = {"m@0" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0, by_right = [0.5], by_right_n = [4]>}, wrong_agree = 0.3, wrong_agree_n = 10, estimate = #flow.estimate<acc = 0.5, lat = 1.0>}
  // CHECK-NEXT: %1 = flow.fork @f attributes {samples = [1, 3]} {
  %1 = flow.fork @f attributes {samples = [1, 3]} {
    flow.yield %0
  }
  // CHECK: %2 = flow.switch %1 case "x" {
  %2 = flow.switch %1 attributes {probs = [0.25, 0.75]} case "x" {
    flow.yield %0
  } case "y" {
    flow.yield %1
  }
  // CHECK: %3 = flow.loop @l iter(%c = %2) attributes {max_iters = [1, 2]} {
  %3 = flow.loop @l iter(%c = %2) attributes {max_iters = [1, 2], pass_rate = 0.5, iters = 1.5 : f64} {
    flow.until %c, %c
  }
  flow.return %3
}
// CHECK: flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 0>}>]}
flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 0>}>]}
