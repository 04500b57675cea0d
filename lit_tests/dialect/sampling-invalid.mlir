// #flow.sampling verifiers, reported at the attribute while parsing, and the
// candidates of a model declared `reasoning = false`.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{#flow.sampling: temperature must be in [0, 2], got 2.5}}
"test.op"() {a = #flow.sampling<temperature = 2.5>} : () -> ()

// -----

// expected-error @+1 {{#flow.sampling: top_p must be in (0, 1], got 0.0}}
"test.op"() {a = #flow.sampling<top_p = 0.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.sampling: top_p must be in [0, 1], got 1.5}}
"test.op"() {a = #flow.sampling<top_p = 1.5>} : () -> ()

// -----

// expected-error @+1 {{#flow.sampling: max_tokens must be >= 1, got 0}}
"test.op"() {a = #flow.sampling<max_tokens = 0>} : () -> ()

// -----

// expected-error @+1 {{#flow.sampling: seed must be >= 0, got -3}}
"test.op"() {a = #flow.sampling<seed = -3>} : () -> ()

// -----

// expected-error @+1 {{#flow.sampling: stop: duplicate choices}}
"test.op"() {a = #flow.sampling<stop = ["x", "x"]>} : () -> ()

// -----

// expected-error @+1 {{#flow.sampling: stop must be a non-empty list of non-empty strings}}
"test.op"() {a = #flow.sampling<stop = [""]>} : () -> ()

// -----

// expected-error @+1 {{#flow.sampling has no field 'temp' (fields: temperature, top_p, max_tokens, seed, stop)}}
"test.op"() {a = #flow.sampling<temp = 1.0>} : () -> ()

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {small = #flow.model<provider = "openai/small", reasoning = false>}} {
  // expected-error @+1 {{agent @solver: profile for 'small@1024', which is not one of its candidate configurations}}
  %0 = flow.agent @solver(%q) {role = "solver", models = ["small"], budgets = [0, 1024], profiles = {"small@1024" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0>}}
  flow.return %0
}
