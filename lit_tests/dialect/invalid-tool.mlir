// flow.tool's verifier: inputs, a tool name, scalar params, its one configuration, a unique name.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{tool @t has no inputs}}
  %0 = flow.tool @t() {tool = "extract_answer"}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{tool @t: tool must name a registered tool, not be empty}}
  %0 = flow.tool @t(%q) {tool = ""}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{tool @t: params['tests'] must be a string, integer or float}}
  %0 = flow.tool @t(%q) {tool = "code_test", params = {tests = ["assert f()"]}}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{tool @t: profile for 'm@0'; its one configuration is 'tool:extract_answer@0'}}
  %0 = flow.tool @t(%q) {tool = "extract_answer", profiles = {"m@0" = #flow.profile<acc = 1.0, acc_n = 1, lat = 0.001>}}
  flow.return %0
}

// -----

// expected-error @+1 {{@t is defined twice in the workflow}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @t(%q) {role = "s", models = ["m"], budgets = [0]}
  %1 = flow.tool @t(%0) {tool = "extract_answer"}
  flow.return %1
}
