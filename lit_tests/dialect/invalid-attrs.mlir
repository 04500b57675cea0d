// Attribute verifiers and keyword-struct parsing: each failure is reported at
// the attribute, while parsing.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{#flow.config: model name must not be empty}}
"test.op"() {a = #flow.config<model = "", budget = 0>} : () -> ()

// -----

// expected-error @+1 {{#flow.config: budget must be >= 0, got -1}}
"test.op"() {a = #flow.config<model = "m", budget = -1>} : () -> ()

// -----

// expected-error @+1 {{#flow.config is missing field(s) budget}}
"test.op"() {a = #flow.config<model = "m">} : () -> ()

// -----

// expected-error @+1 {{#flow.config has no field 'size' (fields: model, budget)}}
"test.op"() {a = #flow.config<model = "m", budget = 1, size = 3>} : () -> ()

// -----

// expected-error @+1 {{field 'model' given twice}}
"test.op"() {a = #flow.config<model = "m", model = "n", budget = 1>} : () -> ()

// -----

// expected-error @+1 {{Expected integer literal}}
"test.op"() {a = #flow.config<model = "m", budget = 1.5>} : () -> ()

// -----

// expected-error @+1 {{#flow.model: provider model string must not be empty}}
"test.op"() {a = #flow.model<provider = "">} : () -> ()

// -----

// expected-error @+1 {{#flow.model: price_in must be >= 0, got -1.0}}
"test.op"() {a = #flow.model<provider = "x", price_in = -1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.model: price_out must be >= 0, got -2.0e-07}}
"test.op"() {a = #flow.model<provider = "x", price_out = -2.0e-07>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: acc must be in [0, 1], got 1.5}}
"test.op"() {a = #flow.profile<acc = 1.5, acc_n = 1, lat = 1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: acc_n must be >= 0, got -1}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = -1, lat = 1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: lat must be >= 0, got -1.0}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = -1.0>} : () -> ()

// -----

// A float literal too large for a double is infinite: rejected, not printed.
// expected-error @+1 {{#flow.profile: lat must be in [0, inf), got inf}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0e999>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: lat_p95 must be >= 0, got -3.1}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, lat_p95 = -3.1>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: tok_in must be >= 0, got -1.0}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, tok_in = -1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: tok_out must be >= 0, got -1.0}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, tok_out = -1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: cost must be >= 0, got -0.1}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, cost = -0.1>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: acc must be in [0, 1], got -0.5}}
"test.op"() {a = #flow.estimate<acc = -0.5, lat = 1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: lat must be >= 0, got -1.0}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = -1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: acc_lo must be in [0, 1], got -0.1}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, acc_lo = -0.1>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: acc_hi must be in [0, 1], got 2.0}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, acc_hi = 2.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: cost must be >= 0, got -2.0}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, cost = -2.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.point: acc must be in [0, 1], got 1.01}}
"test.op"() {a = #flow.point<acc = 1.01, lat = 1.0, assign = {}>} : () -> ()

// -----

// expected-error @+1 {{#flow.point: measured_acc must be in [0, 1], got 2.0}}
"test.op"() {a = #flow.point<acc = 0.5, lat = 1.0, measured_acc = 2.0, assign = {}>} : () -> ()

// -----

// expected-error @+1 {{#flow.point: lat must be >= 0, got -1.0}}
"test.op"() {a = #flow.point<acc = 0.5, lat = -1.0, assign = {}>} : () -> ()

// -----

// expected-error @+1 {{#flow.point: measured_lat must be >= 0, got -2.0}}
"test.op"() {a = #flow.point<acc = 0.5, lat = 1.0, measured_lat = -2.0, assign = {}>} : () -> ()

// -----

// expected-error @+1 {{#flow.point: cost must be >= 0, got -1.0}}
"test.op"() {a = #flow.point<acc = 0.5, lat = 1.0, cost = -1.0, assign = {}>} : () -> ()

// -----

// expected-error @+1 {{#flow.point is missing field(s) acc, assign}}
"test.op"() {a = #flow.point<lat = 1.0>} : () -> ()

// -----

// expected-error @+1 {{#flow.point: assign must be a dictionary}}
"test.op"() {a = #flow.point<acc = 0.5, lat = 1.0, assign = []>} : () -> ()

// -----

// expected-error @+1 {{#flow.point: assign['a'] must be a #flow.config, "skip" or an integer knob}}
"test.op"() {a = #flow.point<acc = 0.5, lat = 1.0, assign = {a = "x"}>} : () -> ()

// -----

// A nested attribute is reported where it is written.
// expected-error @+1 {{#flow.config: budget must be >= 0, got -3}}
"test.op"() {a = #flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = -3>}>} : () -> ()


// -----

// expected-error @+1 {{#flow.profile: mixed and mixed_n go together: give both or neither}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0, mixed = 0.25>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: mixed must be}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0, mixed = 1.5, mixed_n = 4>} : () -> ()
