import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION_COOKIE, SessionStore, clearedSessionCookie, sessionCookie, sessionFromCookie } from './sessions.js';

const alice = { name: 'alice', groups: ['dev', 'system:authenticated'] };

test('a login token opens one session for its user, once', () => {
  const s = new SessionStore();
  const { token } = s.mintToken(alice);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  const first = s.redeem(token);
  assert.ok(first);
  assert.deepEqual(first.user, alice);
  assert.deepEqual(s.userOf(first.session), alice);
  assert.equal(s.redeem(token), undefined, 'a token works once');
});

test('the session is exactly the minting user (a copy: later changes to the object do not widen it)', () => {
  const s = new SessionStore();
  const u = { name: 'bob', groups: ['viewers'] };
  const { token } = s.mintToken(u);
  u.groups.push('system:masters');
  assert.deepEqual(s.redeem(token)!.user.groups, ['viewers']);
});

test('tokens and sessions expire; unknown, malformed and ended sessions are nobody', () => {
  let now = 1000;
  const s = new SessionStore({ now: () => now, tokenTtlMs: 100, sessionTtlMs: 1000 });
  const late = s.mintToken(alice).token;
  now += 101;
  assert.equal(s.redeem(late), undefined, 'expired token');
  const ok = s.redeem(s.mintToken(alice).token)!;
  now += 999;
  assert.ok(s.userOf(ok.session));
  now += 1;
  assert.equal(s.userOf(ok.session), undefined, 'expired session');
  const live = s.redeem(s.mintToken(alice).token)!;
  s.end(live.session);
  assert.equal(s.userOf(live.session), undefined, 'logged out');
  assert.equal(s.userOf('x'.repeat(43)), undefined);
  assert.equal(s.userOf('short'), undefined);
  assert.equal(s.userOf(undefined), undefined);
  assert.equal(s.redeem('../../etc'), undefined);
});

test('the tables are bounded: the oldest go first', () => {
  const s = new SessionStore({ max: 3 });
  const tokens = Array.from({ length: 5 }, () => s.mintToken(alice).token);
  assert.equal(s.counts.tokens, 3);
  assert.equal(s.redeem(tokens[0]!), undefined);
  assert.ok(s.redeem(tokens[4]!));
});

test('cookies: HttpOnly, Secure, SameSite=Strict, only under /ui/; parsed back from a Cookie header', () => {
  const c = sessionCookie('abc', 3600_000);
  assert.equal(c, `${SESSION_COOKIE}=abc; Path=/ui/; HttpOnly; Secure; SameSite=Strict; Max-Age=3600`);
  assert.match(clearedSessionCookie(), /Max-Age=0/);
  assert.equal(sessionFromCookie(`a=1; ${SESSION_COOKIE}=xyz; b=2`), 'xyz');
  assert.equal(sessionFromCookie('a=1'), undefined);
  assert.equal(sessionFromCookie(undefined), undefined);
});
