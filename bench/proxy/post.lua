-- wrk script: POST a small OpenAI chat-completion request (the same bytes to every target). The Authorization
-- header is $BENCH_AUTHORIZATION when set (tollway with auth on: a virtual key), a dummy client key otherwise.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION") or "Bearer sk-bench-client-key"
if wrk.headers["Authorization"] == "" then wrk.headers["Authorization"] = "Bearer sk-bench-client-key" end
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello."}],"max_tokens":32}'
