;;; nonroot-ls-eglot.el --- Eglot configuration for the nonroot-ls language server  -*- lexical-binding: t; -*-

;; Load it from your init file (or copy the forms):
;;
;;   (load "/path/to/nonroot-ls/editors/emacs/nonroot-ls-eglot.el")
;;   (add-hook 'dockerfile-mode-hook #'eglot-ensure)     ; dockerfile-mode from MELPA
;;   (add-hook 'dockerfile-ts-mode-hook #'eglot-ensure)  ; Emacs 29+
;;
;; Eglot runs one server per buffer, so this only claims Dockerfile modes.  To check
;; Kubernetes YAML with nonroot-ls instead of another YAML server, set
;; `nonroot-ls-eglot-yaml' to t before loading this file.
;;
;; Server settings (the keys of .nonroot-ls.yaml) go in `eglot-workspace-configuration':
;;
;;   (setq-default eglot-workspace-configuration
;;                 '(:nonroot (:profile "openshift" :defaultUser (:uid 1001 :gid 0))))

;;; Code:

(require 'eglot)

(defvar nonroot-ls-program "nonroot-ls"
  "The nonroot-ls binary: a name looked up in `exec-path', or an absolute path.")

(defvar nonroot-ls-eglot-yaml nil
  "When non-nil, also use nonroot-ls for YAML and JSON buffers.")

(defun nonroot-ls-eglot-modes ()
  "The major modes, with LSP language ids, that nonroot-ls serves."
  (append '((dockerfile-mode :language-id "dockerfile")
            (dockerfile-ts-mode :language-id "dockerfile"))
          (when nonroot-ls-eglot-yaml
            '((yaml-mode :language-id "yaml")
              (yaml-ts-mode :language-id "yaml")
              (json-mode :language-id "json")
              (json-ts-mode :language-id "json")
              (js-json-mode :language-id "json")))))

(add-to-list 'eglot-server-programs
             (cons (nonroot-ls-eglot-modes)
                   (lambda (&optional _interactive) (list nonroot-ls-program "serve"))))

;; Files named Containerfile, *.Dockerfile or Dockerfile.* are Dockerfiles too.
(when (fboundp 'dockerfile-mode)
  (add-to-list 'auto-mode-alist
               '("\\(?:\\`\\|/\\)\\(?:Containerfile\\(?:\\..*\\)?\\|Dockerfile\\..*\\|[^/]*\\.[Dd]ockerfile\\)\\'"
                 . dockerfile-mode)))

(provide 'nonroot-ls-eglot)
;;; nonroot-ls-eglot.el ends here
