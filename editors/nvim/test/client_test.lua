-- Headless Neovim test of nonroot-ls as a real client (Neovim 0.7 or later). On Neovim 0.11
-- and later the client is started the way lsp/nonroot_ls.lua is meant to be used
-- (vim.lsp.config + vim.lsp.enable, the config found on 'runtimepath'); on older ones with
-- require('nonroot_ls.legacy').setup. Run by editors/editors_test.go:
--
--   NONROOT_LS=<binary> NONROOT_WS=<workspace> NONROOT_RESULT=<file> \
--     nvim --headless -u NONE -i NONE --cmd 'set rtp+=editors/nvim' -c 'luafile editors/nvim/test/client_test.lua'
--
-- Without NONROOT_LS only the configuration files are checked (no server needed).
-- Optional: NONROOT_FIXED (the Dockerfile after the engine's preferred NR102 fix), NONROOT_NR201
-- ("line:col:endline:endcol", 0-based, UTF-16, of the NR201 finding in deploy/deployment.yaml
-- as the engine reports it; unset when the rule is not registered).
-- Every check writes "PASS name" or "FAIL name: detail" to NONROOT_RESULT, then "DONE".

local out = assert(io.open(assert(os.getenv('NONROOT_RESULT')), 'w'))
local failed = false
local function pass(name)
  out:write('PASS ' .. name .. '\n')
  out:flush()
end
local function fail(name, detail)
  failed = true
  out:write('FAIL ' .. name .. ': ' .. tostring(detail):gsub('\n', '\\n') .. '\n')
  out:flush()
end
local function check(name, ok, detail)
  if ok then
    pass(name)
  else
    fail(name, detail)
  end
  return ok
end
local function finish()
  out:write('DONE\n')
  out:close()
  if failed then
    vim.cmd('cquit 1')
  else
    vim.cmd('qall!')
  end
end

local function readfile(path)
  local f = io.open(path, 'r')
  if not f then
    return nil
  end
  local s = f:read('*a')
  f:close()
  return s
end

local ok, err = pcall(function()
  local bin = os.getenv('NONROOT_LS') or ''
  local ws = os.getenv('NONROOT_WS') or ''

  -- 1. The Neovim 0.11 config file returns the table vim.lsp.config expects.
  local legacy = require('nonroot_ls.legacy')
  local cfg = legacy.defaults()
  check('lsp/nonroot_ls.lua cmd', vim.deep_equal(cfg.cmd, { 'nonroot-ls', 'serve' }), vim.inspect(cfg.cmd))
  local fts = {}
  for _, ft in ipairs(cfg.filetypes) do
    fts[ft] = true
  end
  check('lsp/nonroot_ls.lua filetypes',
    fts.dockerfile and fts.yaml and fts['yaml.docker-compose'] and fts.helm and fts.json,
    vim.inspect(cfg.filetypes))
  check('lsp/nonroot_ls.lua root_markers', vim.deep_equal(cfg.root_markers, { '.nonroot-ls.yaml', '.git' }),
    vim.inspect(cfg.root_markers))
  check('lsp/nonroot_ls.lua settings section', type(cfg.settings) == 'table' and cfg.settings.nonroot ~= nil,
    vim.inspect(cfg.settings))

  -- Neovim 0.11+: vim.lsp.config finds lsp/nonroot_ls.lua on 'runtimepath' and merges it.
  local modern = vim.lsp.config ~= nil and vim.lsp.enable ~= nil
  if modern then
    local resolved = vim.lsp.config.nonroot_ls
    check('vim.lsp.config resolves lsp/nonroot_ls.lua', resolved ~= nil
      and vim.deep_equal(resolved.cmd, cfg.cmd) and vim.deep_equal(resolved.filetypes, cfg.filetypes)
      and vim.deep_equal(resolved.root_markers, cfg.root_markers), vim.inspect(resolved))
  end

  -- `-u NONE` leaves filetype detection off; a user's Neovim has it on.
  vim.cmd('filetype on')
  vim.o.hidden = true
  local l = require('nonroot_ls.legacy')
  check('Dockerfile names', l.is_dockerfile_name('/w/Containerfile') and l.is_dockerfile_name('/w/api.Dockerfile')
    and l.is_dockerfile_name('/w/Dockerfile.prod') and not l.is_dockerfile_name('/w/values.yaml'), 'name patterns')
  if bin == '' then
    return -- NONROOT_LS unset: only the configuration checks
  end

  -- Record the raw publishDiagnostics notifications (code, codeDescription, source, version).
  local published = {}
  local default_pd = vim.lsp.handlers['textDocument/publishDiagnostics']
  vim.lsp.handlers['textDocument/publishDiagnostics'] = function(e, result, ctx, c)
    published[result.uri] = result
    return default_pd(e, result, ctx, c)
  end

  local exit_code
  local on_exit = function(code)
    exit_code = code
  end
  if modern then
    vim.lsp.config('nonroot_ls', { cmd = { bin, 'serve' }, on_exit = on_exit })
    vim.lsp.enable('nonroot_ls')
    pass('started with vim.lsp.config + vim.lsp.enable (Neovim ' .. tostring(vim.version()) .. ')')
  else
    legacy.setup({ cmd = { bin, 'serve' }, on_exit = on_exit })
    pass('started with nonroot_ls.legacy (Neovim ' .. vim.fn.matchstr(vim.fn.execute('version'), 'NVIM v\\S\\+') .. ')')
  end
  local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients

  -- 2. Open the Dockerfile: the client starts and attaches.
  local dockerfile = ws .. '/Dockerfile'
  vim.cmd('edit ' .. vim.fn.fnameescape(dockerfile))
  local buf = vim.api.nvim_get_current_buf()
  check('Dockerfile filetype', vim.bo[buf].filetype == 'dockerfile', vim.bo[buf].filetype)
  local client
  vim.wait(5000, function()
    client = get_clients()[1]
    return client ~= nil and client.initialized
  end, 10)
  if not check('client initialized', client ~= nil and client.initialized, 'no initialized client') then
    return
  end
  check('root dir from .nonroot-ls.yaml', client.config.root_dir == ws, client.config.root_dir)

  -- 3. The NR102 diagnostic arrives with its code and the exact range of `root`.
  local uri = vim.uri_from_bufnr(buf)
  local nr102
  vim.wait(10000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == 'NR102' then
        nr102 = d
        return true
      end
    end
    return false
  end, 10)
  if not check('NR102 diagnostic', nr102 ~= nil, vim.inspect(vim.diagnostic.get(buf))) then
    return
  end
  local user_line = vim.api.nvim_buf_get_lines(buf, nr102.lnum, nr102.lnum + 1, false)[1]
  check('NR102 range is the USER argument',
    user_line == 'USER root' and nr102.col == 5 and nr102.end_lnum == nr102.lnum and nr102.end_col == 9,
    string.format('line %q %d:%d-%d:%d', tostring(user_line), nr102.lnum, nr102.col, nr102.end_lnum, nr102.end_col))
  check('NR102 severity error', nr102.severity == vim.diagnostic.severity.ERROR, nr102.severity)
  check('NR102 source', nr102.source == 'nonroot-ls', nr102.source)
  local raw
  for _, d in ipairs((published[uri] or {}).diagnostics or {}) do
    if d.code == 'NR102' then
      raw = d
    end
  end
  check('NR102 codeDescription', raw and raw.codeDescription and type(raw.codeDescription.href) == 'string'
    and raw.codeDescription.href:match('NR102') ~= nil, vim.inspect(raw))

  -- 4. Hover on `root` explains the finding.
  local pos = { line = nr102.lnum, character = nr102.col + 1 }
  local hover = vim.lsp.buf_request_sync(buf, 'textDocument/hover',
    { textDocument = { uri = uri }, position = pos }, 5000)
  local hover_text = ''
  for _, r in pairs(hover or {}) do
    if r.result and r.result.contents then
      local c = r.result.contents
      hover_text = hover_text .. (type(c) == 'string' and c or c.value or vim.inspect(c))
    end
  end
  check('hover mentions NR102', hover_text:match('NR102') ~= nil, hover_text)

  -- 5. Code actions for the diagnostic: a preferred quick-fix; apply it.
  local actions = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', {
    textDocument = { uri = uri },
    range = raw.range,
    context = { diagnostics = { raw } },
  }, 5000)
  local fix
  for _, r in pairs(actions or {}) do
    for _, a in ipairs(r.result or {}) do
      if a.isPreferred and a.kind == 'quickfix' then
        fix = a
      end
    end
  end
  if not check('preferred quick-fix offered', fix ~= nil, vim.inspect(actions)) then
    return
  end
  if not fix.edit and fix.data ~= nil then
    local resolved
    if modern then
      resolved = client:request_sync('codeAction/resolve', fix, 5000, buf)
    else
      resolved = client.request_sync('codeAction/resolve', fix, 5000, buf)
    end
    fix = resolved and resolved.result or fix
  end
  if not check('quick-fix has an edit', fix.edit ~= nil, vim.inspect(fix)) then
    return
  end
  -- Neovim 0.7 does not announce workspaceEdit.documentChanges: the server must send changes.
  local caps = vim.lsp.protocol.make_client_capabilities()
  if not (caps.workspace.workspaceEdit or {}).documentChanges then
    check('plain changes for a client without documentChanges',
      fix.edit.documentChanges == nil and fix.edit.changes ~= nil, vim.inspect(fix.edit))
  end
  vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local new_user = lines[nr102.lnum + 1]
  local uid = new_user and new_user:match('^USER (%d+)')
  check('USER line is a non-root uid', uid ~= nil and tonumber(uid) > 0, tostring(new_user))
  local want = os.getenv('NONROOT_FIXED') and readfile(os.getenv('NONROOT_FIXED'))
  if want then
    local got = table.concat(lines, '\n') .. '\n'
    check("buffer equals the engine's preferred NR102 fix", got == want, got)
  end

  -- 6. After the edit the server re-publishes without NR102.
  local cleared = vim.wait(10000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == 'NR102' then
        return false
      end
    end
    return published[uri] ~= nil
  end, 10)
  check('NR102 gone after the fix', cleared, vim.inspect(vim.diagnostic.get(buf)))

  -- 7. A manifest: NR201 at the line and column the CLI reports.
  local want201 = os.getenv('NONROOT_NR201')
  if want201 and want201 ~= '' then
    vim.cmd('edit ' .. vim.fn.fnameescape(ws .. '/deploy/deployment.yaml'))
    local mbuf = vim.api.nvim_get_current_buf()
    local muri = vim.uri_from_bufnr(mbuf)
    local got201
    vim.wait(10000, function()
      for _, d in ipairs((published[muri] or {}).diagnostics or {}) do
        if d.code == 'NR201' then
          got201 = d
          return true
        end
      end
      return false
    end, 10)
    if check('NR201 diagnostic on the manifest', got201 ~= nil, vim.inspect(published[muri])) then
      local r = got201.range
      local s = string.format('%d:%d:%d:%d', r.start.line, r.start.character, r['end'].line, r['end'].character)
      check('NR201 range equals the engine', s == want201, s .. ' want ' .. want201)
    end
  end

  -- 8. shutdown + exit: the server exits with status 0.
  if modern then
    client:stop()
  else
    vim.lsp.stop_client(client.id)
  end
  vim.wait(5000, function()
    return exit_code ~= nil
  end, 10)
  check('server exit status 0 after shutdown', exit_code == 0, tostring(exit_code))
end)
if not ok then
  fail('test script', err)
end
finish()
