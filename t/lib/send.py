#!/usr/bin/env python3
"""t/lib/send.py - one authenticated SMTP session, for the e2e tests.

  send.py PORT USER PASSWORD SOURCE-IP MESSAGE-ID SUBJECT RCPT...

Logs in to 127.0.0.1:PORT from SOURCE-IP with AUTH, sends MAIL FROM USER,
each RCPT, and a short message to the recipients that were accepted
(RSET when none was), going on after a refused RCPT as an MTA would.
Prints one line per reply: "MAIL 250 ...", "RCPT <addr> 450 ...",
"DATA 250 ...".  Python's smtplib, because swaks stops at the first
refused recipient.
"""
import smtplib
import sys


def show(step, reply):
    text = reply[1].decode("utf-8", "replace").replace("\n", " ")
    print(step, reply[0], text)


def main(argv):
    port, user, pw, src, msgid, subject = argv[1:7]
    rcpts = argv[7:]
    s = smtplib.SMTP("127.0.0.1", int(port), source_address=(src, 0),
                     timeout=30)
    s.ehlo("client.test.example")
    s.login(user, pw)
    r = s.mail(user)
    show("MAIL", r)
    if r[0] == 250:
        ok = 0
        for a in rcpts:
            r = s.rcpt(a)
            show("RCPT " + a, r)
            ok += r[0] == 250
        if ok:
            show("DATA", s.data(
                "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\n"
                "hello\r\n" % (user, rcpts[0], subject, msgid)))
        else:
            s.rset()
    s.quit()


if __name__ == "__main__":
    if len(sys.argv) < 8:
        sys.exit("usage: send.py PORT USER PASSWORD SOURCE-IP MESSAGE-ID "
                 "SUBJECT RCPT...")
    main(sys.argv)
