builtin.module {
  flow.workflow @router(%query: !flow.msg) -> !flow.msg attributes {pool = {"qwen3-0.6b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-0.6B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-1.7b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-1.7B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-8b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-14b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-14B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-32b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-32B", api_base = "http://127.0.0.1:8765/v1">}} {
    %router = flow.agent @router(%query) {role = "router", prompt = "Answer 'math' or 'code': which kind of question is this?\0A{query}", args = ["query"], models = ["qwen3-0.6b", "qwen3-1.7b", "qwen3-8b"], budgets = [0]}
    %answer = flow.switch @answer %router case "math" {
      %math_expert = flow.agent @math_expert(%query) {role = "solver", prompt = "You are a mathematician. Solve:\0A{query}", args = ["query"], models = ["qwen3-1.7b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 2048]}
      flow.yield %math_expert
    } case "code" {
      %code_expert = flow.agent @code_expert(%query) {role = "solver", prompt = "You are a programmer. Solve:\0A{query}", args = ["query"], models = ["qwen3-1.7b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 2048]}
      flow.yield %code_expert
    }
    flow.return %answer
  }
}
