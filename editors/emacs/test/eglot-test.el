;;; eglot-test.el --- nonroot-ls through Eglot, in batch  -*- lexical-binding: t; -*-

;; Run by editors/editors_test.go:
;;
;;   NONROOT_LS=<binary> NONROOT_WS=<workspace> NONROOT_RESULT=<file> [NONROOT_FIXED=<file>] \
;;     emacs --batch -Q -l editors/emacs/test/eglot-test.el
;;
;; Connects with the configuration of editors/emacs/nonroot-ls-eglot.el, waits for the NR102
;; diagnostic through Flymake, asks for hover, executes the preferred quick-fix through Eglot's
;; own code-action path and checks the buffer.  Every check writes "PASS name" or
;; "FAIL name: detail" to NONROOT_RESULT, then "DONE".

;;; Code:

(require 'package)
;; Debian's elpa-* packages live here; -Q skips the site start-up that would add it.
(dolist (dir '("/usr/share/emacs/site-lisp/elpa"))
  (when (file-directory-p dir)
    (add-to-list 'package-directory-list dir)))
(package-initialize)
(require 'eglot)
(require 'flymake)
(require 'cl-lib)

(defvar nr-test-failed nil)
(defvar nr-test-lines nil)

(defun nr-test-write (line)
  (push line nr-test-lines)
  (with-temp-buffer
    (insert (mapconcat #'identity (reverse nr-test-lines) "\n") "\n")
    (write-region (point-min) (point-max) (getenv "NONROOT_RESULT") nil 'silent)))

(defun nr-check (name ok &optional detail)
  (if ok
      (nr-test-write (concat "PASS " name))
    (setq nr-test-failed t)
    (nr-test-write (format "FAIL %s: %s" name
                           (replace-regexp-in-string "\n" "\\\\n" (format "%S" detail)))))
  ok)

(defun nr-wait (pred seconds)
  "Process events until PRED is non-nil or SECONDS pass.  Return PRED's value."
  (let ((deadline (+ (float-time) seconds)) v)
    (while (and (not (setq v (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    v))

(defun nr-diag-code (d)
  (plist-get (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d))) :code))

(cl-defun nr-run ()
  (let* ((ws (file-name-as-directory (getenv "NONROOT_WS")))
         (bin (getenv "NONROOT_LS"))
         (here (file-name-directory (or load-file-name buffer-file-name))))
    ;; Emacs 28 has no Dockerfile mode: stand in for MELPA's dockerfile-mode.
    (unless (fboundp 'dockerfile-mode)
      (define-derived-mode dockerfile-mode prog-mode "Dockerfile"))
    (setq nonroot-ls-program bin)
    (load (expand-file-name "../nonroot-ls-eglot.el" here) nil t)
    (nr-check "eglot-server-programs entry"
              (equal (funcall (nth 2 (eglot--lookup-mode 'dockerfile-mode)) nil) (list bin "serve"))
              (eglot--lookup-mode 'dockerfile-mode))
    (setq eglot-sync-connect 10
          flymake-no-changes-timeout nil
          eglot-events-buffer-size 0)
    (setq-default eglot-workspace-configuration '(:nonroot (:profile "kubernetes")))
    (find-file (expand-file-name "Dockerfile" ws))
    (dockerfile-mode)
    (apply #'eglot (eglot--guess-contact))
    (let ((server (nr-wait #'eglot-current-server 10)))
      (unless (nr-check "eglot connected" server) (cl-return-from nr-run))
      (nr-check "language id dockerfile" (equal (eglot--language-id server) "dockerfile")
                (eglot--language-id server))
      ;; Diagnostics through Flymake.
      (let ((d (nr-wait (lambda ()
                          (flymake-start)
                          (cl-find "NR102" (flymake-diagnostics) :key #'nr-diag-code :test #'equal))
                        10)))
        (unless (nr-check "NR102 through flymake" d (flymake-diagnostics)) (cl-return-from nr-run))
        (nr-check "NR102 region is `root'"
                  (equal (buffer-substring-no-properties (flymake-diagnostic-beg d) (flymake-diagnostic-end d)) "root")
                  (buffer-substring-no-properties (flymake-diagnostic-beg d) (flymake-diagnostic-end d)))
        (nr-check "NR102 is an error" (eq (flymake-diagnostic-type d) 'eglot-error) (flymake-diagnostic-type d))
        (nr-check "NR102 message" (string-match-p "\\`nonroot-ls \\[NR102\\]: " (flymake-diagnostic-text d))
                  (flymake-diagnostic-text d))
        ;; Hover (Eglot 1.9 asks for plaintext unless a Markdown mode is installed).
        (goto-char (1+ (flymake-diagnostic-beg d)))
        (let* ((hover (jsonrpc-request server :textDocument/hover (eglot--TextDocumentPositionParams)))
               (contents (plist-get hover :contents))
               (text (cond ((stringp contents) contents)
                           ((plist-get contents :value))
                           (t (format "%S" contents)))))
          (nr-check "hover mentions NR102" (string-match-p "NR102" text) text)
          (unless (fboundp 'gfm-view-mode)
            (nr-check "hover is plaintext for a plaintext-only client"
                      (or (stringp contents) (equal (plist-get contents :kind) "plaintext"))
                      contents)))
        ;; Code actions, as `eglot-code-actions' asks for them; run the preferred quick-fix
        ;; through Eglot's own executor.
        (let* ((actions (eglot-code-actions (flymake-diagnostic-beg d) (flymake-diagnostic-end d) "quickfix"))
               (fix (cl-find-if (lambda (a) (eq (plist-get a :isPreferred) t)) actions)))
          (unless (nr-check "preferred quick-fix offered" fix actions) (cl-return-from nr-run))
          (nr-check "documentChanges for a client that supports them"
                    (plist-get (plist-get fix :edit) :documentChanges) (plist-get fix :edit))
          (eglot--read-execute-code-action (list fix) server "quickfix")
          (let ((line (save-excursion
                        (goto-char (flymake-diagnostic-beg d))
                        (buffer-substring-no-properties (line-beginning-position) (line-end-position)))))
            (nr-check "USER line is a non-root uid" (string-match-p "\\`USER [1-9][0-9]*\\(:[0-9]+\\)?\\'" line) line))
          (let ((want (getenv "NONROOT_FIXED")))
            (when (and want (file-exists-p want))
              (let ((w (with-temp-buffer (insert-file-contents want) (buffer-string))))
                (nr-check "buffer equals the engine's preferred NR102 fix"
                          (equal (buffer-substring-no-properties (point-min) (point-max)) w)
                          (buffer-substring-no-properties (point-min) (point-max))))))
          ;; Eglot sends didChange from an idle timer, which batch mode never runs.
          (eglot--signal-textDocument/didChange)
          (nr-check "NR102 gone after the fix"
                    (nr-wait (lambda ()
                               (flymake-start)
                               (not (cl-find "NR102" (flymake-diagnostics) :key #'nr-diag-code :test #'equal)))
                             10)
                    (flymake-diagnostics))))
      (let ((proc (jsonrpc--process server)))
        (eglot-shutdown server nil 5)
        (nr-wait (lambda () (not (process-live-p proc))) 5)
        ;; Eglot deletes the process right after sending exit, so its exit status is Eglot's
        ;; SIGKILL, not the server's (the Neovim and VS Code tests check the status).
        (nr-check "server process ended after eglot-shutdown" (not (process-live-p proc))
                  (process-status proc))))))

(condition-case err
    (nr-run)
  (error (nr-check "test script" nil err)))
(nr-test-write "DONE")
(kill-emacs (if nr-test-failed 1 0))
;;; eglot-test.el ends here
