-- tls.lua - RequireTLS: MAIL FROM without TLS is refused, with TLS
-- (the {tls_version} macro, as Postfix and Sendmail send it) it passes.
dofile(srcdir .. "/t/milter/lib.lua")
local connect = start(confdir .. "/tls.conf", "inet:" .. port .. "@127.0.0.1")

run("RequireTLS refuses MAIL without TLS", function()
	local conn = session(connect, "198.51.100.7")
	local r = mail(conn, "<alice@isp.example>", "alice@isp.example")
	expect(r == SMFIR_REPLYCODE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("RequireTLS passes MAIL over TLS", function()
	local conn = session(connect, "198.51.100.7", "client.example", "TLSv1.3")
	local r = mail(conn, "<alice@isp.example>", "alice@isp.example")
	expect(r == SMFIR_CONTINUE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("a trusted client is exempt from RequireTLS", function()
	local conn = session(connect, "192.0.2.9")
	expect(mail(conn, "<x@y.example>", nil) == SMFIR_CONTINUE, "refused")
	mt.disconnect(conn)
end)
