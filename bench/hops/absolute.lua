-- wrk script: what an HTTP_PROXY client sends its proxy for http://agent-b/v1/chat/completions (absolute-form,
-- RFC 9112 §3.2.2), the same bytes to the sidecar's forward-proxy listener and to nginx A.
wrk.method = "GET"
wrk.path = "http://agent-b/v1/chat/completions"
wrk.headers["Host"] = "agent-b"
