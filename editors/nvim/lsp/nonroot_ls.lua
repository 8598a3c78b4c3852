-- nonroot-ls for Neovim >= 0.11 (vim.lsp.config / vim.lsp.enable).
--
-- Put this directory (editors/nvim) on 'runtimepath', or copy this file to
-- ~/.config/nvim/lsp/nonroot_ls.lua, then:
--
--   vim.lsp.enable('nonroot_ls')
--
-- Override any field with vim.lsp.config('nonroot_ls', { ... }), e.g. the binary's path
-- (cmd) or the server settings (settings.nonroot, the keys of .nonroot-ls.yaml).
---@type vim.lsp.Config
return {
  cmd = { 'nonroot-ls', 'serve' },
  filetypes = { 'dockerfile', 'yaml', 'yaml.docker-compose', 'yaml.helm-values', 'helm', 'json' },
  root_markers = { '.nonroot-ls.yaml', '.git' },
  -- Answered to workspace/configuration (section "nonroot") and sent as initializationOptions.
  -- Keys: profile, rules, defaultUser = { uid, gid }, images, helm = { valuesFiles }, kustomize = { roots }, ignore.
  -- A .nonroot-ls.yaml at the workspace root overrides them key by key.
  settings = {
    nonroot = vim.empty_dict(),
  },
  init_options = vim.empty_dict(),
}
