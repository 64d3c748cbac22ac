/*
 * rlredis_script.c - the Lua script that does each check-and-update of
 * RateLimitBackend redis, run with EVALSHA by rlredis.c: the counters
 * ("charge", "hit", "usage") and the client addresses ("seen").
 *
 * The counters are the GCRA of ratelimit.h in microseconds of Redis's TIME.
 * Lua numbers are doubles, exact below 2^53: a TAT in microseconds since
 * the epoch (about 2^51) fits, nanoseconds would not.  The increment of
 * a charge, cost * W / N, is worked out in 128 bits and handed to
 * the script as whole microseconds plus a remainder in 1/N us, so the
 * arithmetic stays exact for any N and W the configuration accepts: a
 * burst of N passes, then one per W/N, and no window boundary lets 2N
 * through.  A counter key expires (PEXPIRE) when all its kinds have
 * refilled, so Redis's memory is bounded by the accounts that owe.
 */
#include "rlredis_int.h"

const char rlredis_script[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local op = ARGV[1]\n"
    "local function num(x) return string.format('%.0f', x) end\n"
    "if op == 'seen' then\n"
    "  local win, cap = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. num(now - win))\n"
    "  redis.call('ZADD', KEYS[1], num(now), ARGV[2])\n"
    "  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(cap + 1))\n"
    "  redis.call('PEXPIRE', KEYS[1], num(math.floor(win / 1000) + 1))\n"
    "  return redis.call('ZCARD', KEYS[1])\n"
    "end\n"
    "local f, n, w = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local v = redis.call('HMGET', KEYS[1], f, f .. '.r', 'e')\n"
    "local tat, frac = tonumber(v[1]) or 0, tonumber(v[2]) or 0\n"
    "local e = tonumber(v[3]) or 0\n"
    "if op == 'usage' then\n"
    "  if not v[1] then return {0, 0, 0} end\n"
    "  if tat < now then return {1, 0, 0} end\n"
    "  return {1, tat - now, frac}\n"
    "end\n"
    "local inc, incf = tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "local function gcra(a, r)\n"
    "  if r >= n then r = 0 end\n"
    "  if a < now then a = now; r = 0 end\n"
    "  local i = inc\n"
    "  r = r + incf\n"
    "  if r >= n then r = r - n; i = i + 1 end\n"
    "  a = a + i\n"
    "  if a > now + 4503599627370496 then a = now + 4503599627370496 end\n"
    "  local d = a - now\n"
    "  return d < w or (d == w and r == 0), a, r, d\n"
    "end\n"
    "local function store(a, r)\n"
    "  if a > e then e = a end\n"
    "  redis.call('HSET', KEYS[1], f, num(a), f .. '.r', num(r), 'e', num(e))\n"
    "  redis.call('PEXPIRE', KEYS[1], num(math.floor((e - now) / 1000) + 1))\n"
    "end\n"
    "if op == 'charge' then\n"
    "  local ok, a, r, d = true, 0, 0, 0\n"
    "  if n > 0 then\n"
    "    ok, a, r, d = gcra(tat, frac)\n"
    "    if (ok and ARGV[7] ~= 'check') or (not ok and ARGV[7] == 'force') then\n"
    "      store(a, r)\n"
    "    end\n"
    "  end\n"
    "  local retry = 0\n"
    "  if not ok then\n"
    "    retry = d - w\n"
    "    if r ~= 0 then retry = retry + 1 end\n"
    "  end\n"
    "  local s = false\n"
    "  if ARGV[8] ~= '' then s = redis.call('HGET', KEYS[2], ARGV[8]) end\n"
    "  return {ok and 1 or 0, retry, s}\n"
    "end\n"
    "if op == 'hit' then\n"
    "  local first = tat < now or (tat == now and frac == 0)\n"
    "  local _, a, r = gcra(tat, frac)\n"
    "  store(a, r)\n"
    "  local ok = gcra(a, r)\n"
    "  return {first and 1 or 0, ok and 0 or 1}\n"
    "end\n"
    "return redis.error_reply('portcullis: unknown operation ' .. op)\n";
