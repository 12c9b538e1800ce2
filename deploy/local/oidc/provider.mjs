// The bureau's identity provider for `make run` and the tests: node-oidc-provider (a certified
// OpenID Provider) with the demo staff of staff.json, who sign in with a user name and password,
// and the demo agencies' machine clients of agencies.json, which get tokens for ingest with the
// client-credentials grant.
//
//   node provider.mjs   with OIDC_ISSUER (http://127.0.0.1:PORT), OIDC_PORT, OIDC_KEYS_FILE
//                       (a JWKS of private keys, each with its kid), OIDC_CONSOLE_ORIGINS (the
//                       console's origins, comma-separated: its redirect and post-logout URIs)
//
// It keeps everything in memory: restarting it ends every session. Restarting it with another
// keys file is how a key rotation is rehearsed: the gateway must pick the new kid up by itself.
import './log.mjs';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const issuer = env('OIDC_ISSUER');
const port = Number(env('OIDC_PORT'));
const keys = JSON.parse(readFileSync(env('OIDC_KEYS_FILE'), 'utf8'));
const consoleOrigins = env('OIDC_CONSOLE_ORIGINS').split(',').map((o) => o.trim()).filter(Boolean);
const staffFile = new URL('./staff.json', import.meta.url);
const { password: demoPassword, staff } = JSON.parse(readFileSync(staffFile, 'utf8'));
// The gateway's audience: the resource (an absolute URI) the access tokens are issued for.
const audience = env('OIDC_AUDIENCE', 'urn:onedoor:gateway');
// Ingest's: agencies' tokens are for it alone.
const ingestAudience = env('OIDC_INGEST_AUDIENCE', 'urn:onedoor:ingest');
const agenciesFile = new URL('./agencies.json', import.meta.url);
const { agencies } = JSON.parse(readFileSync(agenciesFile, 'utf8'));
const agencyClients = new Map(agencies.map((agency) => [agency.client_id, agency]));
const accessTokenSeconds = Number(env('OIDC_ACCESS_TOKEN_SECONDS', '3600'));

const byName = new Map(staff.map((person) => [person.username, person]));

function staffClaims(person) {
  const claims = { role: person.role, jurisdiction: person.jurisdiction, name: person.name };
  if (person.department) claims.department = person.department;
  return claims;
}

function agencyClaims(agency) {
  return {
    role: 'agency', agency: agency.agency, jurisdiction: agency.jurisdiction, name: agency.name,
  };
}

const samePassword = (given, expected) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

const html = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${html(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#b00020}</style></head>
<body><h1>${html(title)}</h1>${body}</body></html>`;

const configuration = {
  clients: [
    {
      // The window console: a browser page, so a public client with PKCE.
      client_id: 'onedoor-console',
      client_name: 'onedoor 一门受理',
      token_endpoint_auth_method: 'none',
      application_type: 'web',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: consoleOrigins.map((origin) => `${origin}/console/`),
      post_logout_redirect_uris: consoleOrigins.map((origin) => `${origin}/console/`),
    },
    {
      // `onedoor login`: the device authorization grant, signed in on any browser.
      client_id: 'onedoor-cli',
      client_name: 'onedoor CLI',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
      response_types: [],
      redirect_uris: [],
    },
    // Agencies' machine clients (`onedoor push --client-id`): confidential clients, the
    // client-credentials grant only.
    ...agencies.map((agency) => ({
      client_id: agency.client_id,
      client_secret: agency.client_secret,
      client_name: agency.name,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'agency',
    })),
  ],
  jwks: keys,
  cookies: { keys: [keys.keys.map((k) => k.kid).join('.')] },
  claims: { openid: ['sub'], profile: ['name'], staff: ['role', 'department', 'jurisdiction'] },
  scopes: ['openid', 'profile', 'staff', 'agency'],
  pkce: { required: () => true },
  ttl: {
    AccessToken: accessTokenSeconds,
    IdToken: accessTokenSeconds,
    DeviceCode: 600,
    Interaction: 3600,
    Session: 8 * 3600,
    Grant: 8 * 3600,
  },
  async findAccount(_ctx, sub) {
    const person = byName.get(sub);
    if (!person) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...staffClaims(person) }) };
  },
  // The gateway reads role, department and jurisdiction from the access token itself, ingest
  // role, agency and jurisdiction (a client-credentials token has a client and no account).
  async extraTokenClaims(_ctx, token) {
    const person = token.accountId && byName.get(token.accountId);
    if (person) return staffClaims(person);
    const agency = !token.accountId && agencyClients.get(token.clientId);
    return agency ? agencyClaims(agency) : undefined;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, _out, err) {
        ctx.body = page(
          '命令行登录',
          `${err ? '<p class="error">代码无效或已过期，请核对后重新输入。</p>' : ''}${form}
          <label for="user_code">终端显示的代码</label>
          <input id="user_code" name="user_code" form="op.deviceInputForm" required autofocus>
          <button type="submit" form="op.deviceInputForm">继续</button>`,
        );
      },
      async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
        ctx.body = page(
          '确认命令行登录',
          `${form}<p>${html(client.clientName ?? client.clientId)} 请求以您的身份登录。请核对终端显示的代码：</p>
          <p><code>${html(userCode)}</code></p>
          <button autofocus type="submit" form="op.deviceConfirmForm">确认登录</button>
          <button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">取消</button>`,
        );
      },
      async successSource(ctx) {
        ctx.body = page('已登录', '<p>命令行已登录，可以关闭本页，回到终端。</p>');
      },
    },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page(
          '退出登录',
          `${form}<p>退出 onedoor 一门受理?</p>
          <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">退出登录</button>`,
        );
      },
    },
    resourceIndicators: {
      enabled: true,
      // An agency's token is for ingest unless it asks (and it may ask for nothing else).
      defaultResource: (_ctx, client) => (agencyClients.has(client?.clientId) ? ingestAudience : audience),
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource, client) => {
        const server = { accessTokenTTL: accessTokenSeconds, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        if (resource === ingestAudience) {
          // Staff may get one too: ingest refuses it by its role (403), as the tests show.
          return { ...server, scope: 'agency staff', audience: ingestAudience };
        }
        if (resource === audience && !agencyClients.has(client.clientId)) {
          return { ...server, scope: 'staff', audience };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(res, uid, error = '') {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(
    page(
      '工作人员登录',
      `${error ? `<p class="error">${html(error)}</p>` : ''}
      <form method="post" action="/interaction/${html(uid)}/login" autocomplete="off">
        <label for="username">用户名</label><input id="username" name="username" required autofocus>
        <label for="password">密码</label><input id="password" name="password" type="password" required>
        <button type="submit">登录</button>
      </form>`,
    ),
  );
}

// The staff directory's own first-party clients: consent is implied, granted at once.
async function grantConsent(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

async function interaction(req, res, path) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') {
    await provider.interactionFinished(req, res, await grantConsent(details), {
      mergeWithLastSubmission: true,
    });
    return;
  }
  if (req.method === 'GET') {
    loginPage(res, details.uid);
    return;
  }
  if (req.method === 'POST' && path.endsWith('/login')) {
    const form = await readForm(req);
    const person = byName.get(form.get('username') ?? '');
    if (!person || !samePassword(form.get('password') ?? '', demoPassword)) {
      res.statusCode = 401;
      loginPage(res, details.uid, '用户名或密码不正确');
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: person.username } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  res.statusCode = 405;
  res.end();
}

const server = createServer((req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (path.startsWith('/interaction/')) {
    interaction(req, res, path).catch((error) => {
      res.statusCode = 400;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page('登录已失效', `<p>${html(error.message)}</p><p>请回到原页面重新登录。</p>`));
    });
    return;
  }
  callback(req, res);
});

// Loopback only, whatever the issuer's host says.
server.listen(port, '127.0.0.1', () => {
  console.log(`identity provider ${issuer} serving demo staff and agencies on 127.0.0.1:${port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// Why a request was refused, in the provider's log (its pages say only "invalid_request").
for (const event of ['end_session.error', 'grant.error', 'authorization.error', 'server_error']) {
  provider.on(event, (_ctx, error) => {
    console.error(`${event}: ${error.message}${error.cause ? ` (${error.cause.message})` : ''}`);
  });
}
