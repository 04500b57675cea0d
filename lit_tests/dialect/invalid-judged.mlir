// `judged` on an agent names how its profiles were judged; nothing else is read.
// RUN: flowcompile-opt %s --verify-diagnostics

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @p: judged must be one of 'reference output'}}
  %0 = flow.agent @p(%q) {role = "planner", models = ["m"], budgets = [0], judged = "by eye"}
  flow.return %0
}
