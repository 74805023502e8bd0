// A real OpenID Connect provider for the staff single sign-on tests: panva's oidc-provider
// on a free loopback port, with one confidential client (the gateway) and a small login page
// of its own (no page from the internet). Any login name is a person in "the municipality's
// directory" whose e-mail is <login>@<domain>; the password must be the one given.
//
//   node tests/oidc/provider.mjs --redirect-uri URL [--redirect-uri URL ...] \
//     --client-id ID --client-secret SECRET --password PW [--domain karlstad.se] [--host localhost]
//
// Prints one JSON line {"issuer": ...} on standard output when it listens; stops on SIGTERM.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import Provider from "oidc-provider";

const { values: args } = parseArgs({
  options: {
    "redirect-uri": { type: "string", multiple: true },
    "client-id": { type: "string" },
    "client-secret": { type: "string" },
    password: { type: "string" },
    domain: { type: "string", default: "karlstad.se" },
    host: { type: "string", default: "localhost" },
    unverified: { type: "string", multiple: true, default: [] }, // logins whose e-mail is not verified
  },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!doctype html><html lang="sv"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "test-key", alg: "RS256", use: "sig" };

const server = createServer();
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const issuer = `http://${args.host}:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: args["client-id"],
      client_secret: args["client-secret"],
      redirect_uris: args["redirect-uri"],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    pkce: { required: () => true },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "preferred_username"] },
    features: { devInteractions: { enabled: false } },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: `${id}@${args.domain}`,
            email_verified: !args.unverified.includes(id),
            name: id,
            preferred_username: id,
          };
        },
      };
    },
    // First-party client: the person is not asked to consent to the scopes.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });

  const interaction = /^\/interaction\/([\w-]+)(\/login)?$/;
  const handler = provider.callback();
  server.on("request", async (req, res) => {
    const match = interaction.exec(new URL(req.url, issuer).pathname);
    if (!match) return handler(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.method === "GET") {
        res.setHeader("content-type", "text/html; charset=utf-8");
        res.end(page("Kommunens inloggning (test)", `
<form method="post" action="/interaction/${escape(details.uid)}/login">
<p id="error"></p>
<label for="login">Användarnamn</label> <input id="login" name="login" autocomplete="off" required>
<label for="password">Lösenord</label> <input id="password" name="password" type="password" required>
<button type="submit" id="sign-in">Logga in</button></form>`));
        return;
      }
      const body = await new Promise((resolve) => {
        let data = "";
        req.on("data", (chunk) => { data += chunk; });
        req.on("end", () => resolve(new URLSearchParams(data)));
      });
      if (body.get("password") !== args.password) {
        res.statusCode = 401;
        res.setHeader("content-type", "text/html; charset=utf-8");
        res.end(page("Kommunens inloggning (test)", "<p id=\"error\">Fel lösenord.</p>"));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: body.get("login") } },
        { mergeWithLastSubmission: false });
    } catch (error) {
      res.statusCode = 400;
      res.end(String(error && error.message));
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
