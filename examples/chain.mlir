builtin.module {
  flow.workflow @chain(%query: !flow.msg) -> !flow.msg attributes {pool = {"qwen3-0.6b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-0.6B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-1.7b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-1.7B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-4b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-4B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-8b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-14b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-14B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-32b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-32B", api_base = "http://127.0.0.1:8765/v1">}} {
    %planner = flow.agent @planner(%query) {role = "planner", prompt = "Break the problem into steps.\0A{query}", models = ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 1024, 4096]}
    %solver = flow.agent @solver(%query, %planner) {role = "solver", prompt = "Solve the problem following the plan.\0AProblem: {query}\0APlan: {planner}", models = ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 1024, 4096]}
    %verifier = flow.agent @verifier(%query, %planner, %solver) {role = "verifier", prompt = "Check the answer against the plan and fix it if wrong.\0AProblem: {query}\0APlan: {planner}\0AAnswer: {solver}", models = ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 1024, 4096]}
    flow.return %verifier
  }
}
