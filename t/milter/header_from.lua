-- header_from.lua - CheckHeaderFrom: every address of the From: header
-- must belong to the account, whatever the display-name tricks.
dofile(srcdir .. "/t/milter/lib.lua")
local connect = start(confdir .. "/auth.conf", "inet:" .. port .. "@127.0.0.1")

local cases = {
	-- { name, From: value, expected reply }.  miltertest shows only the
	-- kind of reply; the SMTP codes are checked by t/unit/test_milter.c
	-- and, through a real Postfix, by t/e2e/submission.sh.
	{ "own address with display name", "Alice Example <alice@isp.example>", SMFIR_CONTINUE },
	{ "own domain, other user", "bob@isp.example", SMFIR_CONTINUE },
	{ "quoted display name with an address in it",
	  "\"ceo@bank.example\" <alice@isp.example>", SMFIR_CONTINUE },
	{ "comment holding a foreign address",
	  "alice@isp.example (ceo@bank.example)", SMFIR_CONTINUE },
	{ "encoded word in the display name", "=?UTF-8?B?QWxpY2U=?= <alice@isp.example>",
	  SMFIR_CONTINUE },
	{ "folded header", "Alice\r\n <alice@isp.example>", SMFIR_CONTINUE },
	{ "foreign address", "CEO <ceo@bank.example>", SMFIR_REPLYCODE, "553", "5.7.1" },
	{ "own display name, foreign address",
	  "alice@isp.example <ceo@bank.example>", SMFIR_REPLYCODE, "553", "5.7.1" },
	{ "encoded word hiding the foreign address",
	  "=?UTF-8?Q?alice@isp.example?= <ceo@bank.example>", SMFIR_REPLYCODE, "553", "5.7.1" },
	{ "one own and one foreign address",
	  "alice@isp.example, ceo@bank.example", SMFIR_REPLYCODE, "553", "5.7.1" },
	{ "group with a foreign member",
	  "Team: alice@isp.example, ceo@bank.example;", SMFIR_REPLYCODE, "553", "5.7.1" },
	{ "comment that hides nothing",
	  "(alice@isp.example) ceo@bank.example", SMFIR_REPLYCODE, "553", "5.7.1" },
	{ "look-alike domain", "alice@isp.example.evil", SMFIR_REPLYCODE, "553", "5.7.1" },
	{ "unbalanced angle bracket", "Alice <alice@isp.example", SMFIR_REPLYCODE, "550", "5.6.0" },
	{ "unbalanced quote", "\"Alice <alice@isp.example>", SMFIR_REPLYCODE, "550", "5.6.0" },
	{ "no address at all", "Alice", SMFIR_REPLYCODE, "550", "5.6.0" },
}

for _, c in ipairs(cases) do
	run("From: " .. c[1], function()
		local conn = session(connect, "198.51.100.7")
		expect(mail(conn, "<alice@isp.example>", "alice@isp.example") == SMFIR_CONTINUE,
		    "MAIL refused")
		local r = message(conn, {{"Subject", "test"}, {"From", c[2]}})
		expect(r == c[3], "got " .. reply_name(r) .. ", want " .. reply_name(c[3]))
		mt.disconnect(conn)
	end)
end

run("two From: headers are refused", function()
	local conn = session(connect, "198.51.100.7")
	expect(mail(conn, "<alice@isp.example>", "alice@isp.example") == SMFIR_CONTINUE,
	    "MAIL refused")
	local r = message(conn, {{"From", "alice@isp.example"}, {"From", "ceo@bank.example"}})
	expect(r == SMFIR_REPLYCODE, "got " .. reply_name(r))
	mt.disconnect(conn)
end)

run("a message without From: is judged by its envelope", function()
	local conn = session(connect, "198.51.100.7")
	expect(mail(conn, "<alice@isp.example>", "alice@isp.example") == SMFIR_CONTINUE,
	    "MAIL refused")
	expect(message(conn, {{"Subject", "no from"}}) == SMFIR_CONTINUE, "refused")
	mt.disconnect(conn)
end)
