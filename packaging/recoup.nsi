; Recoup's Windows installer (NSIS 3, Modern UI 2).
;
;   makensis -DSOURCE_DIR=C:\path\to\dist\Recoup -DVERSION=0.1.0 [-DICON=recoup.ico]
;            [-DOUTFILE=C:\path\to\Recoup-0.1.0-setup.exe] [-DFAST_COMPRESSION] packaging\recoup.nsi
;
; Per-machine: the program goes to Program Files, the booth's data (config.toml, the
; database, booth.token, logs) to %ProgramData%\Recoup, where the frozen app looks for
; them (desktop.config.machine_home). An upgrade replaces the program files only: an
; existing config.toml is never touched (config.example.toml beside it is refreshed).
; Uninstalling keeps the data unless the operator ticks "Also delete data" (or, silent:
; uninstall.exe /S /DELETEDATA).

!ifndef SOURCE_DIR
  !error "Pass the PyInstaller folder: -DSOURCE_DIR=...\dist\Recoup"
!endif
!ifndef VERSION
  !error "Pass the app version: -DVERSION=x.y.z"
!endif
!ifndef VERSION_QUAD
  !define VERSION_QUAD "${VERSION}.0"  ; VIProductVersion needs four numbers
!endif
!ifndef OUTFILE
  !define OUTFILE "..\dist\Recoup-${VERSION}-setup.exe"
!endif

!define APP "Recoup"
!define EXE "Recoup.exe"
!define REG_KEY "Software\${APP}"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"
!define USERS_SID "*S-1-5-32-545"  ; BUILTIN\Users, whatever the Windows language
; With SetShellVarContext all (set in .onInit and un.onInit), $APPDATA is the all-users
; application data folder: C:\ProgramData.
!define DATA_DIR "$APPDATA\${APP}"

Unicode true
!ifdef FAST_COMPRESSION
  SetCompressor zlib  ; a quick check build (packaging/check-installer.sh)
!else
  SetCompressor /SOLID lzma
!endif
Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP}"
; The folder of an earlier installation is read in .onInit: InstallDirRegKey would read the
; 32-bit registry view, and the keys are written in the 64-bit one (SetRegView 64).
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show
BrandingText "${APP} ${VERSION}"

VIProductVersion "${VERSION_QUAD}"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} ${VERSION} installer"
VIAddVersionKey "CompanyName" "${APP}"
VIAddVersionKey "LegalCopyright" "(c) ${APP}"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"
!include "FileFunc.nsh"

!ifdef ICON
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_UNCOMPONENTSPAGE_NODESC

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_TEXT "${APP} is installed.$\r$\n$\r$\nBefore the first start, \
  configure the booth in ${DATA_DIR} (see the operator's guide): \
  config.toml (from config.example.toml) and the booth token."
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; Waits until no running Recoup.exe holds the program file (a running executable cannot
; be opened for writing), or aborts when the operator cancels.
!macro WaitUntilClosed
  ${If} ${FileExists} "$INSTDIR\${EXE}"
    ${Do}
      ClearErrors
      FileOpen $0 "$INSTDIR\${EXE}" a
      ${IfNot} ${Errors}
        FileClose $0
        ${Break}
      ${EndIf}
      ; Silent (/S): no one can press Retry, so fail (exit code 2) instead of waiting.
      ${IfNot} ${Cmd} `MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION \
          "${APP} is running. Close it at the booth, then press Retry." /SD IDCANCEL IDRETRY`
        Abort
      ${EndIf}
    ${Loop}
  ${EndIf}
!macroend

Section "${APP} (program, Start menu shortcuts)" SecApp
  SectionIn RO
  SetShellVarContext all
  !insertmacro WaitUntilClosed

  ; Program files: the previous version's are removed first, so no stale library stays.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXE}"
  SetOutPath "$INSTDIR"
  File /r "${SOURCE_DIR}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Data: %ProgramData%\Recoup, writable by the booth's (non-admin) Windows account.
  CreateDirectory "${DATA_DIR}\logs"
  SetOutPath "${DATA_DIR}"
  File "/oname=config.example.toml" "${SOURCE_DIR}\_internal\config.example.toml"
  ; config.toml is the operator's: never created over, never overwritten.
  nsExec::ExecToLog 'icacls "${DATA_DIR}" /grant ${USERS_SID}:(OI)(CI)M /T /C /Q'
  Pop $0
  ${If} $0 != 0
    DetailPrint "Could not give Users write access to ${DATA_DIR} ($0)"
  ${EndIf}

  ; Start menu.
  SetOutPath "$INSTDIR"
  CreateDirectory "$SMPROGRAMS\${APP}"
  CreateShortCut "$SMPROGRAMS\${APP}\${APP}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
  CreateShortCut "$SMPROGRAMS\${APP}\${APP} self-test.lnk" "$SYSDIR\cmd.exe" \
    '/k ""$INSTDIR\${EXE}" self-test"' "$INSTDIR\${EXE}" 0
  CreateShortCut "$SMPROGRAMS\${APP}\${APP} data folder.lnk" "${DATA_DIR}"
  ; The start-at-login shortcut exists only while its component is chosen.
  Delete "$SMSTARTUP\${APP}.lnk"

  ; Apps & features.
  WriteRegStr HKLM "${REG_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${REG_KEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "${APP}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section /o "Start ${APP} when anyone logs in to this PC" SecStartup
  SetShellVarContext all
  SetOutPath "$INSTDIR"
  CreateShortCut "$SMSTARTUP\${APP}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
SectionEnd

Section "un.${APP} (program and shortcuts)" SecUnApp
  SectionIn RO
  SetShellVarContext all
  !insertmacro WaitUntilClosed
  Delete "$SMSTARTUP\${APP}.lnk"
  Delete "$SMPROGRAMS\${APP}\${APP}.lnk"
  Delete "$SMPROGRAMS\${APP}\${APP} self-test.lnk"
  Delete "$SMPROGRAMS\${APP}\${APP} data folder.lnk"
  RMDir "$SMPROGRAMS\${APP}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  DeleteRegKey HKLM "${REG_KEY}"
  DetailPrint "Kept the booth's data in ${DATA_DIR} unless chosen below."
SectionEnd

Section /o "un.Also delete data: configuration, database, token and logs" SecUnData
  SetShellVarContext all
  RMDir /r "${DATA_DIR}"
  DetailPrint "Deleted ${DATA_DIR}"
SectionEnd

; After the sections: .onInit refers to their indexes.
Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${APP} needs 64-bit Windows."
    Abort
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
  ; Upgrade: propose the folder of the installed version (unless /D= chose another one).
  ReadRegStr $0 HKLM "${REG_KEY}" "InstallDir"
  ${If} $0 != ""
  ${AndIf} $INSTDIR == "$PROGRAMFILES64\${APP}"
    StrCpy $INSTDIR $0
  ${EndIf}
  ; Upgrade: keep the start-at-login choice made at the last install.
  ${If} ${FileExists} "$SMSTARTUP\${APP}.lnk"
    SectionSetFlags ${SecStartup} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
  ; uninstall.exe /S /DELETEDATA: a silent uninstall that also deletes the data.
  ${un.GetParameters} $0
  ClearErrors
  ${un.GetOptions} $0 "/DELETEDATA" $1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecUnData} ${SF_SELECTED}
  ${EndIf}
FunctionEnd
