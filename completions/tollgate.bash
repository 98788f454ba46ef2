# bash completion for tollgate                                          -*- shell-script -*-
# Installed to share/bash-completion/completions/tollgate.

# Profile names: the project's, the user's and the installed ones (classes.json is not one).
_tollgate_profiles() {
  local dirs=(.tollgate/profiles "${XDG_CONFIG_HOME:-$HOME/.config}/tollgate/profiles")
  local bin
  bin=$(command -v tollgate 2>/dev/null) && dirs+=("${bin%/*}/../share/tollgate/profiles")
  local dir f
  for dir in "${dirs[@]}"; do
    for f in "$dir"/*.json; do
      [ -e "$f" ] || continue
      f=${f##*/}
      [ "$f" = classes.json ] || printf '%s\n' "${f%.json}"
    done
  done | sort -u
}

_tollgate() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands="run check explain classify task audit approvals hook mcp serve"
  local sub="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --) return 0 ;;  # the sandboxed command's own words: leave them to the default
      -*) ;;
      *) sub=${COMP_WORDS[i]}; break ;;
    esac
  done
  case $prev in
    --profile|-p) COMPREPLY=($(compgen -W "$(_tollgate_profiles)" -- "$cur")); return 0 ;;
    --workspace|-w|--audit-log) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --socket) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --task-file|--classes|--report|--result-json) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --landlock) COMPREPLY=($(compgen -W "best-effort require off" -- "$cur")); return 0 ;;
    --audit-level) COMPREPLY=($(compgen -W "run actions files" -- "$cur")); return 0 ;;
    --audit-sync) COMPREPLY=($(compgen -W "none batch every" -- "$cur")); return 0 ;;
    --approvals) COMPREPLY=($(compgen -W "wait deny" -- "$cur")); return 0 ;;
    --phase) COMPREPLY=($(compgen -W "plan implement review ship" -- "$cur")); return 0 ;;
    --format) COMPREPLY=($(compgen -W "ocsf jsonl" -- "$cur")); return 0 ;;
    --log-level) COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur")); return 0 ;;
  esac
  case $sub in
    "")
      COMPREPLY=($(compgen -W "$commands --help --version --log-level --verbose" -- "$cur")) ;;
    run)
      COMPREPLY=($(compgen -W "--profile --workspace --task --task-file --phase --again --classes
        --ci --report --audit-log --audit-level --audit-sync --landlock --require-limits
        --sandbox-uid --approvals --approval-timeout --result-json --help --" -- "$cur")) ;;
    check)
      COMPREPLY=($(compgen -W "$(_tollgate_profiles) --help" -- "$cur")) ;;
    explain)
      COMPREPLY=($(compgen -W "$(_tollgate_profiles) --workspace --scope --json --help" -- "$cur")) ;;
    classify)
      COMPREPLY=($(compgen -W "--task-file --classes --json --help" -- "$cur")) ;;
    task)
      COMPREPLY=($(compgen -W "list show history --audit-log --classes --json --help" -- "$cur")) ;;
    audit)
      COMPREPLY=($(compgen -W "list denied summary verify reindex export --audit-log --run --task
        --kind --verdict --since --until --pid --rule --grep --json --follow --format --top
        --help" -- "$cur")) ;;
    approvals)
      COMPREPLY=($(compgen -W "list approve deny --run --json --help" -- "$cur")) ;;
    hook)
      COMPREPLY=($(compgen -W "claude-code install --help" -- "$cur")) ;;
    mcp)
      COMPREPLY=($(compgen -W "--profile --workspace --audit-log --help --" -- "$cur")) ;;
    serve)
      COMPREPLY=($(compgen -W "--socket --max-age --keep --max-configurations --help" -- "$cur")) ;;
  esac
  return 0
}
complete -F _tollgate -o default tollgate
