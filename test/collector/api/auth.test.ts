import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bearerAuth, bearerToken } from '../../../collector/api/auth.js';

const TOKEN = 'c0ffee-Token_42';

function guardedApp(onRejected?: (reason: string) => void) {
  const app = new Hono();
  app.use('/api/*', bearerAuth({ token: TOKEN, except: ['/api/health'], onRejected }));
  app.get('/api/findings', (c) => c.json({ findings: [] }));
  app.get('/api/health', (c) => c.json({ status: 'ok' }));
  app.get('/', (c) => c.text('page'));
  return app;
}

async function refusal(response: Response): Promise<string> {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe('Bearer realm="chokepoint"');
  const { error } = (await response.json()) as { error: string };
  expect(error).not.toContain('\n');
  return error;
}

describe('bearerAuth', () => {
  it('lets a request with the token through, whatever the case of the scheme', async () => {
    const app = guardedApp();
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const response = await app.request('/api/findings', {
        headers: { authorization: `${scheme} ${TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ findings: [] });
    }
  });

  it('refuses a request without the header, saying how to send it', async () => {
    const error = await refusal(await guardedApp().request('/api/findings'));
    expect(error).toBe('missing Authorization header: send Authorization: Bearer <token>');
  });

  it('refuses another scheme, a wrong token, a token of another length and a prefix of the token', async () => {
    const app = guardedApp();
    const send = (authorization: string) => app.request('/api/findings', { headers: { authorization } });
    expect(await refusal(await send(`Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`))).toBe(
      'Authorization header is not of the form "Bearer <token>"',
    );
    expect(await refusal(await send('Bearer'))).toBe(
      'Authorization header is not of the form "Bearer <token>"',
    );
    expect(await refusal(await send('Bearer c0ffee-Token_43'))).toBe('invalid bearer token');
    expect(await refusal(await send(`Bearer ${TOKEN}${TOKEN}`))).toBe('invalid bearer token');
    expect(await refusal(await send(`Bearer ${TOKEN.slice(0, -1)}`))).toBe('invalid bearer token');
  });

  it('leaves the exempt paths and the paths it does not guard open', async () => {
    const app = guardedApp();
    expect((await app.request('/api/health')).status).toBe(200);
    expect(await (await app.request('/')).text()).toBe('page');
  });

  it('tells the observer why, and an observer that throws changes nothing', async () => {
    const reasons: string[] = [];
    await guardedApp((reason) => reasons.push(reason)).request('/api/findings');
    expect(reasons).toEqual(['missing Authorization header: send Authorization: Bearer <token>']);

    const throwing = guardedApp(() => {
      throw new Error('observer broke');
    });
    expect(await refusal(await throwing.request('/api/findings'))).toBe(
      'missing Authorization header: send Authorization: Bearer <token>',
    );
  });

  it('refuses to build a guard with an empty token', () => {
    expect(() => bearerAuth({ token: '' })).toThrow(RangeError);
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def~+/=', 'abc.def~+/='],
    ['bearer   abc  ', 'abc'],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    ['Token abc', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});
