-- lib.lua - helpers shared by the miltertest scripts.  Debian's
-- miltertest prints no Lua error text, so every script runs its body
-- through run() which prints the failure before exiting non-zero.

function run(name, body)
	local ok, err = pcall(body)
	if ok then
		print("ok - " .. name)
	else
		print("not ok - " .. name .. ": " .. tostring(err))
		os.exit(1)
	end
end

function expect(cond, msg)
	if not cond then
		error(msg, 2)
	end
end

local replies = {
	[SMFIR_CONTINUE] = "continue", [SMFIR_REJECT] = "reject",
	[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_ACCEPT] = "accept",
	[SMFIR_REPLYCODE] = "replycode", [SMFIR_DISCARD] = "discard",
}

function reply_name(r)
	return replies[r] or tostring(r)
end

function expect_reply(conn, want, what)
	local got = mt.getreply(conn)
	expect(got == want, what .. ": got " .. reply_name(got) ..
	    ", want " .. reply_name(want))
end

-- Starts the filter under test with its own configuration file and
-- returns a connect function for its socket.
function start(conf, sock)
	mt.startfilter(milter, "-f", "-c", conf)
	return function()
		local conn = mt.connect(sock, 50, 0.1)
		expect(conn ~= nil, "cannot connect to " .. sock)
		return conn
	end
end

-- A connection that has passed connect and HELO.  The filter asks for
-- no answer to connect, HELO, headers and body, and for no end of
-- headers (src/milter/steps.h), so miltertest reads none there.
function session(connect, ip, helo, tls)
	local conn = connect()
	expect(mt.conninfo(conn, "client.example", ip) == nil, "conninfo failed")
	for _, o in ipairs({ SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_HDR,
	    SMFIP_NR_BODY, SMFIP_NOEOH }) do
		expect(mt.test_option(conn, o), "protocol option " .. o ..
		    " not negotiated")
	end
	expect(not mt.test_option(conn, SMFIP_NR_MAIL), "no answer to MAIL")
	if tls ~= nil then
		mt.macro(conn, SMFIC_HELO, "{tls_version}", tls,
		    "{cipher}", "TLS_AES_256_GCM_SHA384")
	end
	expect(mt.helo(conn, helo or "client.example") == nil, "helo failed")
	return conn
end

-- MAIL FROM, authenticated as account unless account is nil.
function mail(conn, from, account)
	mt.macro(conn, SMFIC_MAIL, "i", "4XtestQID")
	if account ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", "4XtestQID",
		    "{auth_authen}", account, "{auth_type}", "PLAIN")
	end
	expect(mt.mailfrom(conn, from) == nil, "mailfrom failed")
	return mt.getreply(conn)
end

-- A whole message after an accepted MAIL FROM; returns the reply at
-- end of message, where the From: check is made.
function message(conn, headers)
	expect(mt.rcptto(conn, "<friend@elsewhere.example>") == nil, "rcpt failed")
	expect_reply(conn, SMFIR_CONTINUE, "rcpt")
	for _, h in ipairs(headers) do
		expect(mt.header(conn, h[1], h[2]) == nil, "header failed")
	end
	expect(mt.bodystring(conn, "hello\r\n") == nil, "body failed")
	expect(mt.eom(conn) == nil, "eom failed")
	return mt.getreply(conn)
end
