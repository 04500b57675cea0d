// A pipeline naming an unknown pass, or a known pass with an unknown option,
// is one diagnostic and exit status 1.
// RUN: not flowcompile-opt %s -p strip-profiles,bogus 2>&1 | filecheck %s
// RUN: not flowcompile-opt %s -p 'strip-profiles{depth=2}' 2>&1 | filecheck %s --check-prefix=OPTION

// CHECK:     error: invalid pass pipeline: Unrecognized passes: ['bogus']
// CHECK-NOT: Traceback
// OPTION:     error: invalid pass pipeline: {{.*}}depth
// OPTION-NOT: Traceback
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}
