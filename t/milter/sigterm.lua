-- sigterm.lua - SIGTERM lets a session that is already open finish its
-- message before the filter exits.
dofile(srcdir .. "/t/milter/lib.lua")
local connect = start(confdir .. "/auth.conf", "inet:" .. port .. "@127.0.0.1")

run("a message in flight completes after SIGTERM", function()
	local conn = session(connect, "198.51.100.7")
	expect(mail(conn, "<alice@isp.example>", "alice@isp.example") == SMFIR_CONTINUE,
	    "MAIL refused")
	mt.signal(15)
	mt.sleep(0.5)
	expect(message(conn, {{"From", "alice@isp.example"}}) == SMFIR_CONTINUE,
	    "message not completed after SIGTERM")
	mt.disconnect(conn)
end)
