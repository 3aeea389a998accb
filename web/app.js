// cryptvisor's web UI: a client of center's REST API (/api/v1), nothing more. It holds the session
// token in sessionStorage (gone when the tab closes), writes every server string with textContent
// (never as HTML), and runs under the strict Content-Security-Policy center sends with it.

const TOKEN = 'cryptvisor.token';
const USER = 'cryptvisor.user';
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

const $ = (sel) => document.querySelector(sel);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let value = null;
  try {
    value = await res.json();
  } catch {
    throw new ApiError(res.status, 'bad_response', `center answered ${res.status} without JSON`);
  }
  if (!res.ok) {
    const e = value && value.error ? value.error : { code: 'error', message: `HTTP ${res.status}` };
    if (res.status === 401) logout(false);
    throw new ApiError(res.status, e.code, e.message);
  }
  return value;
}

/** An operation answers with the VM (done) or with a task (202): wait for the task to finish. */
async function finish(value) {
  if (!value || typeof value !== 'object' || typeof value.id !== 'string' || typeof value.state !== 'string')
    return value;
  let task = value;
  while (!FINISHED.has(task.state)) {
    const p = task.progress;
    if (p && p.total > 0) say(`${task.kind} ${task.target}: ${Math.round((100 * p.done) / p.total)}%`);
    task = await api('GET', `/api/v1/tasks/${encodeURIComponent(task.id)}/wait?timeout=20`);
  }
  if (task.state !== 'succeeded') {
    const e = task.error || { code: task.state, message: `task ${task.id} ${task.state}` };
    throw new ApiError(200, e.code, e.message);
  }
  return task.result;
}

function say(text, error = false) {
  const s = $('#status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '—' : String(text);
  if (cls) td.className = cls;
  tr.append(td);
  return td;
}

function fill(table, rows, render) {
  const body = $(`${table} tbody`);
  body.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement('tr');
    render(tr, r);
    body.append(tr);
  }
}

const vmPath = (name, op) => `/api/v1/vms/${encodeURIComponent(name)}${op ? `/${op}` : ''}`;

/** The operations of DESIGN §6 offered per VM, with what each asks the user for. */
const ACTIONS = [
  { op: 'power-on', label: 'Power on', when: (v) => v.powerState !== 'poweredOn' },
  { op: 'power-off', label: 'Power off', when: (v) => v.powerState !== 'poweredOff' },
  { op: 'suspend', label: 'Suspend', when: (v) => v.powerState === 'poweredOn' },
  { op: 'snapshot', label: 'Snapshot', when: () => true },
  { op: 'unlock', label: 'Unlock', when: (v) => v.cryptoState === 'locked' },
  { op: 'encrypt', label: 'Encrypt', when: (v) => !v.encrypted },
  { op: 'decrypt', label: 'Decrypt', when: (v) => v.encrypted, confirm: 'Decrypt this VM? Its data will be stored in clear.' },
  { op: 'rekey', label: 'Rekey', when: (v) => v.encrypted },
  { op: 'rekey', label: 'Deep rekey', when: (v) => v.encrypted, body: () => ({ deep: true }) },
  {
    op: 'migrate',
    label: 'Migrate',
    when: () => true,
    body: () => {
      const to = prompt('Migrate to which host?');
      return to ? { to } : null;
    },
  },
  {
    op: 'clone',
    label: 'Clone',
    when: () => true,
    body: () => {
      const name = prompt('Name of the clone?');
      return name ? { name, newKeys: confirm('Also give the clone new disk keys (re-encrypt its data)?') } : null;
    },
  },
  {
    op: 'shred',
    label: 'Shred',
    when: (v) => v.encrypted,
    confirm: 'Crypto-shred this VM? Its key is destroyed at the KMS and its data can never be read again.',
  },
];

async function act(vm, action) {
  if (action.confirm && !confirm(action.confirm)) return;
  const body = action.body ? action.body() : {};
  if (body === null) return;
  say(`${action.label} ${vm.name}…`);
  try {
    await finish(await api('POST', vmPath(vm.name, action.op), body));
    say(`${action.label} ${vm.name}: done`);
  } catch (err) {
    say(`${action.label} ${vm.name}: ${err.message}`, true);
  }
  await showVms();
}

async function remove(vm) {
  if (!confirm(`Delete ${vm.name} and its disks?`)) return;
  try {
    await finish(await api('DELETE', vmPath(vm.name)));
    say(`deleted ${vm.name}`);
  } catch (err) {
    say(`delete ${vm.name}: ${err.message}`, true);
  }
  await showVms();
}

async function showVms() {
  const vms = await api('GET', '/api/v1/vms');
  fill('#vms-table', vms, (tr, v) => {
    tr.dataset.vm = v.name;
    cell(tr, v.name);
    cell(tr, v.host);
    cell(tr, v.powerState);
    cell(tr, v.cryptoState, v.cryptoState === 'locked' ? 'locked' : '');
    cell(tr, v.encrypted ? 'yes' : 'no');
    cell(tr, v.policy);
    cell(tr, v.keyId, 'mono');
    cell(tr, v.disks.map((d) => `${d.id} ${(d.sizeBytes / 1048576).toFixed(0)} MiB`).join(', '));
    const td = cell(tr, '');
    td.textContent = '';
    for (const a of ACTIONS.filter((x) => x.when(v))) {
      const b = document.createElement('button');
      b.textContent = a.label;
      b.addEventListener('click', () => void act(v, a));
      td.append(b);
    }
    const del = document.createElement('button');
    del.textContent = 'Delete';
    del.addEventListener('click', () => void remove(v));
    td.append(del);
  });
}

async function policyNames() {
  try {
    const list = await api('GET', '/api/v1/policies');
    return list.map((p) => p.name);
  } catch (err) {
    if (err.code === 'route_not_found') return ['VM Encryption Policy'];
    throw err;
  }
}

async function fillCreateForm() {
  const hosts = await api('GET', '/api/v1/hosts');
  const hostSel = $('#create-form select[name=host]');
  hostSel.replaceChildren(...hosts.map((h) => new Option(h.name, h.name)));
  const polSel = $('#create-form select[name=policy]');
  polSel.replaceChildren(new Option('plain (no encryption)', ''), ...(await policyNames()).map((p) => new Option(p, p)));
  if (polSel.options.length > 1) polSel.selectedIndex = 1;
}

const SIZE_UNITS = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** SIZE of DESIGN §10: bytes, or a number with K, M, G or T (powers of 1024). */
function parseSize(text) {
  const m = /^(\d+)([KMGT]?)$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text}`);
  const n = Number(m[1]) * (m[2] ? SIZE_UNITS[m[2].toUpperCase()] : 1);
  if (!Number.isSafeInteger(n) || n <= 0 || n % 4096 !== 0) throw new Error('a size is a positive multiple of 4096 bytes');
  return n;
}

async function createVm(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const body = { name: f.get('name'), host: f.get('host'), disks: String(parseSize(String(f.get('disk')))) };
    if (f.get('policy')) body.policy = f.get('policy');
    say(`creating ${body.name}…`);
    await finish(await api('POST', '/api/v1/vms', body));
    say(`created ${body.name}`);
    ev.target.reset();
    await fillCreateForm();
  } catch (err) {
    say(`create: ${err.message}`, true);
  }
  await showVms();
}

async function showHosts() {
  fill('#hosts-table', await api('GET', '/api/v1/hosts'), (tr, h) => {
    cell(tr, h.name);
    cell(tr, h.url, 'mono');
    cell(tr, h.state);
    cell(tr, h.reachable === null ? null : h.reachable ? 'yes' : 'no');
    cell(tr, h.hostKeyId, 'mono');
  });
}

async function showProviders() {
  fill('#providers-table', await api('GET', '/api/v1/providers'), (tr, p) => {
    cell(tr, p.name);
    cell(tr, p.default ? 'yes' : 'no');
    cell(tr, (p.servers || []).join(', '), 'mono');
    cell(tr, p.identity);
  });
}

async function showPolicies() {
  try {
    $('#policies-out').textContent = JSON.stringify(await api('GET', '/api/v1/policies'), null, 2);
  } catch (err) {
    if (err.code !== 'route_not_found') throw err;
    $('#policies-out').textContent = 'VM Encryption Policy (built in: home and disks, default provider, one KEK per VM)';
  }
}

async function showTasks() {
  fill('#tasks-table', await api('GET', '/api/v1/tasks'), (tr, t) => {
    cell(tr, t.id, 'mono');
    cell(tr, t.kind);
    cell(tr, t.target);
    cell(tr, t.state);
    cell(tr, t.progress && t.progress.total ? `${t.progress.done}/${t.progress.total}` : null);
    cell(tr, t.error ? t.error.message : null);
  });
}

async function showAudit() {
  const records = await api('GET', '/api/v1/audit?limit=10000');
  fill('#audit-table', records.slice(-200).reverse(), (tr, r) => {
    cell(tr, r.seq);
    cell(tr, r.at);
    cell(tr, r.actor);
    cell(tr, r.action);
    cell(tr, r.target);
    cell(tr, r.result);
  });
}

const VIEWS = {
  vms: async () => {
    await fillCreateForm();
    await showVms();
  },
  hosts: showHosts,
  providers: showProviders,
  policies: showPolicies,
  tasks: showTasks,
  audit: showAudit,
};

async function show(view) {
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== `${view}-view`;
  for (const b of document.querySelectorAll('nav .tab')) b.classList.toggle('active', b.dataset.view === view);
  try {
    await VIEWS[view]();
  } catch (err) {
    say(err.status === 404 && err.code === 'route_not_found' ? `${view}: not supported by this center` : err.message, true);
  }
}

function loggedIn(user) {
  $('#login-view').hidden = true;
  $('#nav').hidden = false;
  $('#whoami').textContent = user;
  void show('vms');
}

function logout(callServer = true) {
  if (callServer && sessionStorage.getItem(TOKEN)) void api('POST', '/api/v1/logout').catch(() => undefined);
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
  for (const s of document.querySelectorAll('.view')) s.hidden = true;
  $('#nav').hidden = true;
  $('#login-view').hidden = false;
}

async function login(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const r = await api('POST', '/api/v1/login', { user: f.get('user'), password: f.get('password') });
    sessionStorage.setItem(TOKEN, r.token);
    sessionStorage.setItem(USER, `${r.user} (${r.role})`);
    ev.target.reset();
    say('');
    loggedIn(sessionStorage.getItem(USER));
  } catch (err) {
    say(`login failed: ${err.message}`, true);
  }
}

$('#login-form').addEventListener('submit', (ev) => void login(ev));
$('#create-form').addEventListener('submit', (ev) => void createVm(ev));
$('#logout').addEventListener('click', () => logout());
$('#audit-verify').addEventListener('click', async () => {
  try {
    const r = await api('GET', '/api/v1/audit/verify');
    $('#audit-result').textContent =
      r.brokenAt === null ? `chain intact (${r.records} records)` : `chain broken at record ${r.brokenAt}`;
  } catch (err) {
    $('#audit-result').textContent = err.message;
  }
});
for (const b of document.querySelectorAll('nav .tab')) b.addEventListener('click', () => void show(b.dataset.view));
if (sessionStorage.getItem(TOKEN)) loggedIn(sessionStorage.getItem(USER));
