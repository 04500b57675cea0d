// A pipeline naming an unknown pass, or a known pass with an unknown option,
// is one diagnostic and exit status 1, with the closest known name.
// RUN: not flowcompile-opt %s -p strip-profiles,profil 2>&1 | filecheck %s
// RUN: not flowcompile-opt %s -p 'strip-profiles{depth=2}' 2>&1 | filecheck %s --check-prefix=OPTION
// RUN: not flowcompile-opt %s -p 'profile{sampels=4}' 2>&1 | filecheck %s --check-prefix=CLOSE
// RUN: not flowcompile-opt %s -p 'profile{samples=many}' 2>&1 | filecheck %s --check-prefix=TYPE

// CHECK:     error: invalid pass pipeline: unknown pass 'profil'; did you mean 'profile'? (passes: profile, retarget, compose,
// CHECK-NOT: Traceback
// OPTION:     error: invalid pass pipeline: strip-profiles: unknown option 'depth' (options: none)
// OPTION-NOT: Traceback
// CLOSE:      error: invalid pass pipeline: profile: unknown option 'sampels'; did you mean 'samples'? (options: {{.*}} by-answers, dry-run, max-samples,
// TYPE:       error: invalid pass pipeline: profile: option samples="many": expected int
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}
