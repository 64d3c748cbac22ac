-- auth.lua - RequireAuth, TrustedNetworks and envelope sender ownership
-- over the real milter protocol.  Configuration: t/milter/miltertest.sh.
dofile(srcdir .. "/t/milter/lib.lua")
local connect = start(confdir .. "/auth.conf", "inet:" .. port .. "@127.0.0.1")

run("MAIL without AUTH from an untrusted client is refused", function()
	local conn = session(connect, "198.51.100.7")
	local r = mail(conn, "<alice@isp.example>", nil)
	expect(r == SMFIR_REPLYCODE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("MAIL with AUTH and an own address continues", function()
	local conn = session(connect, "198.51.100.7")
	local r = mail(conn, "<alice@isp.example>", "alice@isp.example")
	expect(r == SMFIR_CONTINUE, "got " .. reply_name(r))
	expect(message(conn, {{"From", "Alice <alice@isp.example>"}}) == SMFIR_CONTINUE,
	    "message not accepted")
	mt.disconnect(conn)
end)

run("a bare login gets AccountDomain", function()
	local conn = session(connect, "198.51.100.7")
	local r = mail(conn, "<Alice@ISP.Example>", "alice")
	expect(r == SMFIR_CONTINUE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("a foreign envelope sender is refused with 553 5.7.1", function()
	local conn = session(connect, "198.51.100.7")
	local r = mail(conn, "<ceo@bank.example>", "alice@isp.example")
	expect(r == SMFIR_REPLYCODE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("a look-alike domain is foreign", function()
	local conn = session(connect, "198.51.100.7")
	local r = mail(conn, "<alice@isp.example.evil>", "alice@isp.example")
	expect(r == SMFIR_REPLYCODE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("a malformed sender is refused with 553 5.1.7", function()
	local conn = session(connect, "198.51.100.7")
	local r = mail(conn, "<alice@isp.example", "alice@isp.example")
	expect(r == SMFIR_REPLYCODE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("a trusted client may submit without AUTH", function()
	local conn = session(connect, "192.0.2.25")
	local r = mail(conn, "<anyone@anywhere.example>", nil)
	expect(r == SMFIR_CONTINUE, "got " .. reply_name(r))
	expect(message(conn, {{"From", "x@anywhere.example"}}) == SMFIR_CONTINUE,
	    "message not accepted")
	mt.disconnect(conn)
end)

run("a trusted IPv6 client may submit without AUTH", function()
	local conn = session(connect, "2001:db8::25")
	expect(mail(conn, "<a@b.example>", nil) == SMFIR_CONTINUE, "refused")
	mt.disconnect(conn)
end)

run("an untrusted IPv6 client must authenticate", function()
	local conn = session(connect, "2001:db9::25")
	expect(mail(conn, "<a@b.example>", nil) == SMFIR_REPLYCODE, "not refused")
	mt.disconnect(conn)
end)

run("a trusted client that authenticates is still held to its account", function()
	local conn = session(connect, "192.0.2.25")
	local r = mail(conn, "<ceo@bank.example>", "alice@isp.example")
	expect(r == SMFIR_REPLYCODE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("several messages on one connection are judged one by one", function()
	local conn = session(connect, "198.51.100.7")
	expect(mail(conn, "<ceo@bank.example>", "alice@isp.example") == SMFIR_REPLYCODE,
	    "first not refused")
	expect(mail(conn, "<alice@isp.example>", "alice@isp.example") == SMFIR_CONTINUE,
	    "second not accepted")
	expect(message(conn, {{"From", "alice@isp.example"}}) == SMFIR_CONTINUE,
	    "second message not accepted")
	expect(mail(conn, "<bob@isp.example>", "alice@isp.example") == SMFIR_CONTINUE,
	    "third not accepted")
	mt.disconnect(conn)
end)
