-- nonroot-ls for Neovim 0.7 – 0.10, which have no vim.lsp.config / vim.lsp.enable.
--
--   vim.opt.runtimepath:append('/path/to/nonroot-ls/editors/nvim')
--   require('nonroot_ls.legacy').setup({})            -- or setup({ cmd = { '/path/to/nonroot-ls', 'serve' } })
--
-- It reads the same defaults as lsp/nonroot_ls.lua, starts one client per root directory
-- (the nearest folder holding .nonroot-ls.yaml or .git; the file's folder otherwise) and
-- attaches it to every buffer of the configured filetypes and to Dockerfiles by name.
local M = {}

local uv = vim.loop

local function this_dir()
  local src = debug.getinfo(1, 'S').source:sub(2)
  return vim.fn.fnamemodify(src, ':p:h')
end

--- The table lsp/nonroot_ls.lua returns.
function M.defaults()
  return dofile(this_dir() .. '/../../lsp/nonroot_ls.lua')
end

local dockerfile_names = {
  '^Dockerfile$', '^Containerfile$', '%.[Dd]ockerfile$', '^Dockerfile%.', '^Containerfile%.',
}

--- True for a file name the server reads as a Dockerfile.
function M.is_dockerfile_name(name)
  local base = vim.fn.fnamemodify(name, ':t')
  for _, pat in ipairs(dockerfile_names) do
    if base:match(pat) then
      return true
    end
  end
  return false
end

--- The nearest ancestor of path (a file or directory) holding one of markers, or nil.
function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ':p')
  if vim.fn.isdirectory(dir) == 0 then
    dir = vim.fn.fnamemodify(dir, ':h')
  end
  while true do
    for _, m in ipairs(markers) do
      if uv.fs_stat(dir .. '/' .. m) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

local clients = {} -- root dir -> client id

--- Starts (or reuses) the client for buffer bufnr and attaches it. Returns the client id.
function M.attach(bufnr, config)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return nil
  end
  local root = M.find_root(name, config.root_markers) or vim.fn.fnamemodify(name, ':p:h')
  local id = clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil or vim.lsp.get_client_by_id(id).is_stopped() then
    id = vim.lsp.start_client({
      name = 'nonroot_ls',
      cmd = config.cmd,
      root_dir = root,
      workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
      settings = config.settings,
      init_options = config.init_options,
      on_attach = config.on_attach,
      on_exit = config.on_exit,
      handlers = config.handlers,
      capabilities = config.capabilities,
    })
    if id == nil then
      vim.notify('nonroot-ls: could not start ' .. table.concat(config.cmd, ' '), vim.log.levels.ERROR)
      return nil
    end
    clients[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Registers the autocommands. opts overrides the defaults of lsp/nonroot_ls.lua.
function M.setup(opts)
  local config = vim.tbl_deep_extend('force', M.defaults(), opts or {})
  -- Neovim before 0.8 does not answer workspace/configuration: send the settings at start too.
  if vim.tbl_isempty(config.init_options or {}) then
    config.init_options = config.settings.nonroot
  end
  if vim.fn.executable(config.cmd[1]) == 0 then
    vim.notify('nonroot-ls: ' .. config.cmd[1] .. ' not found; install it with '
      .. 'go install github.com/nonroot-ls/nonroot-ls/cmd/...@latest', vim.log.levels.WARN)
    return config
  end
  local group = vim.api.nvim_create_augroup('nonroot_ls', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = config.filetypes,
    callback = function(ev)
      M.attach(ev.buf, config)
    end,
  })
  -- Dockerfiles whose name Neovim gives no filetype (Containerfile.prod on old versions).
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
    group = group,
    callback = function(ev)
      if vim.bo[ev.buf].filetype == '' and M.is_dockerfile_name(vim.api.nvim_buf_get_name(ev.buf)) then
        vim.bo[ev.buf].filetype = 'dockerfile'
      end
    end,
  })
  return config
end

return M
