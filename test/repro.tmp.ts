import { makeTestApp, TEST_PAIRING_TOKEN } from './fixtures/app'
await using t = await makeTestApp({ env: { LOG_LEVEL: 'error' } })
const body = '{"repo":{"toString":null,"1e309":-9007199254740992,"<script>alert(1)</script>":[null],"{\\"nested\\":\\"json\\"}":1e+21},"label":" "}'
const r = await t.app.handle(new Request('http://localhost/api/session', { method: 'POST', headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}` }, body }))
console.log(r.status, await r.text())
