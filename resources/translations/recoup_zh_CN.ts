<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name></name>
    <message>
        <location filename="../../ui/format.py" line="+41"/>
        <source>exact match</source>
        <translation>完全匹配</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>check the plate: read {read}, listed {listed}</source>
        <translation>请核对车牌：识别为 {read}，名单中为 {listed}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>from the server, just now</source>
        <translation>来自服务器，刚刚查询</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>from the local cache (never synced)</source>
        <translation>来自本地缓存（从未同步）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>from the local cache, synced {age} ago</source>
        <translation>来自本地缓存，{age}前同步</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{n} s</source>
        <translation>{n} 秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} min</source>
        <translation>{n} 分钟</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} h</source>
        <translation>{n} 小时</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} days</source>
        <translation>{n} 天</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>{h} h {m:02d} min</source>
        <translation>{h} 小时 {m:02d} 分钟</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{m} min</source>
        <translation>{m} 分钟</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>still parked</source>
        <translation>仍在场内</translation>
    </message>
    <message>
        <location filename="../../ui/notice/wording.py" line="+19"/>
        <location filename="../../ui/read_text.py" line="+46"/>
        <source>cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../ui/read_text.py" line="+1"/>
        <source>card</source>
        <translation>银行卡</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>QR code</source>
        <translation>二维码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no method</source>
        <translation>未指定方式</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>paid {amount} by {method}</source>
        <translation>已用{method}缴纳 {amount}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>disputed by the driver ({reason})</source>
        <translation>司机有异议（{reason}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>waived, approved by {supervisor} ({reason})</source>
        <translation>已减免，由 {supervisor} 批准（{reason}）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>let through unpaid ({reason})</source>
        <translation>未缴费放行（{reason}）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{what} at {when}</source>
        <translation>{when} {what}</translation>
    </message>
    <message>
        <location filename="../../ui/read_text.py" line="-21"/>
        <source>typed</source>
        <translation>手动输入</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>error: {error}</source>
        <translation>错误：{error}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>owes {amount}</source>
        <translation>欠费 {amount}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>clear</source>
        <translation>无欠费</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>QR</source>
        <translation>二维码</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>paid {amount} ({method})</source>
        <translation>已缴 {amount}（{method}）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>paid {amount}</source>
        <translation>已缴 {amount}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>disputed</source>
        <translation>有异议</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>waived</source>
        <translation>已减免</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>left unpaid</source>
        <translation>未缴费离场</translation>
    </message>
    <message>
        <location filename="../../ui/supervisor/errors.py" line="+22"/>
        <source>The server refused: {message}</source>
        <translation>服务器拒绝：{message}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>You are not logged in; close this window and log in again.</source>
        <translation>您尚未登录；请关闭此窗口并重新登录。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The server cannot be reached; try again.</source>
        <translation>无法连接服务器，请重试。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Something went wrong; see the log.</source>
        <translation>出现问题，请查看日志。</translation>
    </message>
</context>
<context>
    <name>AuditLogView</name>
    <message>
        <location filename="../../ui/supervisor/audit_view.py" line="+107"/>
        <source>Plate (Enter to filter)</source>
        <translation>车牌（按 Enter 筛选）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>All actions</source>
        <translation>全部操作</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Who</source>
        <translation>操作人</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+24"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location line="-23"/>
        <location line="+21"/>
        <source>Plate</source>
        <translation>车牌</translation>
    </message>
    <message>
        <location line="-20"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Before</source>
        <translation>操作前</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>After</source>
        <translation>操作后</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Select a row to see the state before and after.</source>
        <translation>选择一行以查看操作前后的状态。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Logged in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Logged out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dismissed a flag</source>
        <translation>撤销标记</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resolved a dispute</source>
        <translation>裁决争议</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decided a waiver request</source>
        <translation>处理减免申请</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Approved a waiver offline</source>
        <translation>离线批准减免</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Waiver request withdrawn</source>
        <translation>减免申请已撤回</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Paid although a waiver was approved</source>
        <translation>已批准免除但仍已付款</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Viewed evidence</source>
        <translation>查看证据</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed login</source>
        <translation>登录失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Login locked (too many failures)</source>
        <translation>登录已锁定（失败次数过多）</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Loading the audit log...</source>
        <translation>正在加载审计日志…</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>{count} audit entries.</source>
        <translation>共 {count} 条审计记录。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Newest {count} of {total} audit entries.</source>
        <translation>{total} 条审计记录中最新的 {count} 条。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>{supervisor} at {booth}</source>
        <translation>{supervisor}（{booth}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>booth {booth}</source>
        <translation>岗亭 {booth}</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Before:</source>
        <translation>操作前：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>After:</source>
        <translation>操作后：</translation>
    </message>
</context>
<context>
    <name>BoothApp</name>
    <message>
        <location filename="../../ui/app.py" line="+271"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This booth runs without a configuration file; settings are read-only.</source>
        <translation>本岗亭没有配置文件，设置只能查看、不能修改。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>open the settings</source>
        <translation>打开设置</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>Quit Recoup</source>
        <translation>退出 Recoup</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop reading plates at this booth and quit?</source>
        <translation>停止本岗亭的车牌识别并退出吗？</translation>
    </message>
</context>
<context>
    <name>BoothSession</name>
    <message>
        <location line="-182"/>
        <source>Plate recognition is running.</source>
        <translation>车牌识别正在运行。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Plate recognition unavailable</source>
        <translation>车牌识别不可用</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Plates cannot be read from the cameras: {error}

Type plates with F2 meanwhile, and ask IT to check the OCR engine setting.</source>
        <translation>无法从摄像头识别车牌：{error}

在此期间请按 F2 手动输入车牌，并请 IT 人员检查 OCR 引擎设置。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Enter plate</source>
        <translation>输入车牌</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Supervisor</source>
        <translation>主管</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Logged in offline: the review needs the server; try again when online.</source>
        <translation>已离线登录：审核需要连接服务器，请在线时再试。</translation>
    </message>
</context>
<context>
    <name>BoothStatusBar</name>
    <message>
        <location filename="../../ui/status_bar.py" line="+71"/>
        <source>Attendant: {name}</source>
        <translation>收费员：{name}</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Server: not reached yet</source>
        <translation>服务器：尚未连接</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Server: busy, retrying in {seconds} s</source>
        <translation>服务器：繁忙，{seconds} 秒后重试</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Server: online</source>
        <translation>服务器：在线</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Server: offline since {time}</source>
        <translation>服务器：自 {time} 起离线</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{waiting} waiting to send · {stuck} stuck: {reason}</source>
        <translation>{waiting} 条待上传 · {stuck} 条受阻：{reason}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{count} waiting to send</source>
        <translation>{count} 条待上传</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>server error {status}</source>
        <translation>服务器错误 {status}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>refused, HTTP {status}</source>
        <translation>被拒绝，HTTP {status}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>unreadable answer</source>
        <translation>无法识别的应答</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Blacklist: waiting for the first sync</source>
        <translation>黑名单：等待首次同步</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Blacklist: {count} entries, never synced</source>
        <translation>黑名单：{count} 条，从未同步</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Blacklist: {count} · synced {time} ({age} ago)</source>
        <translation>黑名单：{count} 条 · {time} 同步（{age}前）</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>{lane}: {fps:.1f} fps</source>
        <translation>{lane}：{fps:.1f} 帧/秒</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{lane}: connecting</source>
        <translation>{lane}：正在连接</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{lane}: stopped</source>
        <translation>{lane}：已停止</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{lane}: no signal, retrying</source>
        <translation>{lane}：无信号，正在重试</translation>
    </message>
</context>
<context>
    <name>CardForm</name>
    <message>
        <location filename="../../ui/notice/forms.py" line="+169"/>
        <source>Card: charge {owed} on the card terminal, then type its reference.</source>
        <translation>刷卡：在刷卡机上收取 {owed}，然后输入交易参考号。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>reference on the receipt</source>
        <translation>小票上的参考号</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Terminal reference</source>
        <translation>交易参考号</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Card paid</source>
        <translation>已刷卡缴费</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Type the card terminal&apos;s reference first.</source>
        <translation>请先输入刷卡机的交易参考号。</translation>
    </message>
</context>
<context>
    <name>CashForm</name>
    <message>
        <location line="-88"/>
        <source>Cash: type the amount the driver hands over ({owed} owed).</source>
        <translation>现金：输入司机交来的金额（欠费 {owed}）。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>e.g. 20.00</source>
        <translation>例如 20.00</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Handed over</source>
        <translation>实收金额</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Change</source>
        <translation>找零</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cash received</source>
        <translation>已收现金</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>type the amount handed over</source>
        <translation>请输入实收金额</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{text} is not an amount</source>
        <translation>{text} 不是有效金额</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>not enough: {short} short</source>
        <translation>金额不足：还差 {short}</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The amount handed over must cover what is owed.</source>
        <translation>实收金额必须不少于欠费金额。</translation>
    </message>
</context>
<context>
    <name>CrashReporter</name>
    <message>
        <location filename="../../ui/crash.py" line="+76"/>
        <source>Recoup: unexpected error</source>
        <translation>Recoup：意外错误</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Something went wrong inside Recoup. The booth keeps running; please tell your supervisor or IT.</source>
        <translation>Recoup 内部出现问题。岗亭仍在运行；请告知主管或 IT 人员。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Error: {summary}

The details are in the log file:
{path}</source>
        <translation>错误：{summary}

详细信息见日志文件：
{path}</translation>
    </message>
</context>
<context>
    <name>DisplayPage</name>
    <message>
        <location filename="../../ui/settings/display_page.py" line="+25"/>
        <source>Play the alert sound with each notice</source>
        <extracomment>Each language named in itself, so a supervisor finds their own in any language.</extracomment>
        <translation>每次弹出欠费提示时播放提示音</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+7"/>
        <source>Screen and sound</source>
        <translation>显示与声音</translation>
    </message>
</context>
<context>
    <name>DisputeForm</name>
    <message>
        <location filename="../../ui/notice/forms.py" line="+47"/>
        <source>The driver disputes the debt. A supervisor will review it; say why.</source>
        <translation>司机对欠费有异议。主管将进行复核；请填写原因。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>e.g. paid at the machine</source>
        <translation>例如：已在缴费机缴费</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Record dispute</source>
        <translation>记录异议</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>A dispute needs a reason.</source>
        <translation>记录异议需要填写原因。</translation>
    </message>
</context>
<context>
    <name>EvidencePane</name>
    <message>
        <location filename="../../ui/supervisor/evidence_pane.py" line="+115"/>
        <source>Select a vehicle to see its evidence images.</source>
        <translation>选择车辆以查看其证据图片。</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+19"/>
        <source>Loading evidence images...</source>
        <translation>正在加载证据图片…</translation>
    </message>
    <message>
        <location line="-5"/>
        <source>No evidence images on file for {plate}.</source>
        <translation>{plate} 没有存档的证据图片。</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Image not available</source>
        <translation>图片不可用</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Snapshot</source>
        <translation>抓拍图</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Plate crop</source>
        <translation>车牌截图</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{kind}, {booth}, {when}</source>
        <translation>{kind}，{booth}，{when}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Loading...</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <location line="-73"/>
        <location line="+96"/>
        <source>The evidence images could not be loaded.</source>
        <translation>无法加载证据图片。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Newest {shown} of {total} evidence images.</source>
        <translation>{total} 张证据图片中最新的 {shown} 张。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{count} evidence images.</source>
        <translation>共 {count} 张证据图片。</translation>
    </message>
</context>
<context>
    <name>ExitPolicyPage</name>
    <message>
        <location filename="../../ui/settings/policy_page.py" line="+18"/>
        <source>Must pay</source>
        <translation>必须缴费</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remind only</source>
        <translation>仅提醒</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+33"/>
        <source>Exit policy</source>
        <translation>出场规则</translation>
    </message>
    <message>
        <location line="-30"/>
        <source>What the booth does when a vehicle that owes money reaches the exit.</source>
        <translation>欠费车辆到达出口时，岗亭如何处理。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The vehicle pays what it owes before it leaves; only a supervisor can let it through unpaid.</source>
        <translation>车辆须先补缴欠费才能离场；只有主管可以未缴费放行。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The attendant tells the driver about the amount owed and the vehicle may leave either way.</source>
        <translation>收费员告知司机欠费金额，无论是否缴费，车辆均可离场。</translation>
    </message>
</context>
<context>
    <name>ImageSlot</name>
    <message>
        <location filename="../../ui/notice/images.py" line="+54"/>
        <location line="+11"/>
        <source>Picture unavailable</source>
        <translation>图片不可用</translation>
    </message>
</context>
<context>
    <name>LaneEditor</name>
    <message>
        <location filename="../../ui/settings/lanes_page.py" line="+53"/>
        <source>rtsp://user:password@camera/stream, a video file or a USB index such as 0</source>
        <translation>rtsp://用户名:密码@摄像头/码流、视频文件，或 USB 编号（如 0）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Test camera</source>
        <translation>测试摄像头</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Press &quot;Test camera&quot; to see a frame, then drag a rectangle where plates appear.</source>
        <translation>按“测试摄像头”查看画面，然后在车牌出现的位置拖出一个矩形。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Search the whole frame</source>
        <translation>识别整个画面</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>left</source>
        <translation>左</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>top</source>
        <translation>上</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>width</source>
        <translation>宽</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>height</source>
        <translation>高</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Lane name</source>
        <translation>车道名称</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location line="+60"/>
        <source>Region of interest: the whole frame</source>
        <translation>识别区域：整个画面</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Region of interest (drag on the frame to redraw)</source>
        <translation>识别区域（在画面上拖动可重新绘制）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Enter the camera source first.</source>
        <translation>请先输入摄像头地址。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Opening {camera}...</source>
        <translation>正在打开 {camera}……</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Camera works: {camera}, {width} x {height}.</source>
        <translation>摄像头正常：{camera}，{width} × {height}。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>No picture: {reason}</source>
        <translation>没有画面：{reason}</translation>
    </message>
</context>
<context>
    <name>LaneView</name>
    <message>
        <location filename="../../ui/lane_view.py" line="+429"/>
        <source>No camera on this lane</source>
        <translation>此车道没有摄像头</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Connecting to the camera…</source>
        <translation>正在连接摄像头……</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No signal - retrying</source>
        <translation>无信号 - 正在重试</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>camera stopped</source>
        <translation>摄像头已停止</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no picture yet</source>
        <translation>尚无画面</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>last picture {age} ago</source>
        <translation>最后画面于 {age}前</translation>
    </message>
</context>
<context>
    <name>LanesPage</name>
    <message>
        <location filename="../../ui/settings/lanes_page.py" line="+15"/>
        <source>Add lane</source>
        <translation>添加车道</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Remove lane</source>
        <translation>删除车道</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No lanes: the attendant types plates. Add a lane to watch a camera.</source>
        <translation>没有车道：由收费员手动输入车牌。添加车道即可接入摄像头。</translation>
    </message>
    <message>
        <location line="+11"/>
        <location line="+12"/>
        <source>Lanes</source>
        <translation>车道</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>Up to four exit lanes, each watched by one camera.</source>
        <translation>最多四条出口车道，每条车道一个摄像头。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Exit {n}</source>
        <translation>出口 {n}</translation>
    </message>
    <message>
        <location line="+38"/>
        <location line="+6"/>
        <source>(no name)</source>
        <translation>（未命名）</translation>
    </message>
</context>
<context>
    <name>LetThroughForm</name>
    <message>
        <location filename="../../ui/notice/forms.py" line="+20"/>
        <source>Letting a vehicle through unpaid needs a reason and the supervisor&apos;s PIN.</source>
        <translation>未缴费放行需要填写原因并输入主管 PIN 码。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Remind the driver of the debt and let them go, or type another reason.</source>
        <translation>提醒司机欠费后放行，或填写其他原因。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>why the vehicle leaves unpaid</source>
        <translation>车辆未缴费离场的原因</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Supervisor PIN</source>
        <translation>主管 PIN 码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Let through unpaid</source>
        <translation>未缴费放行</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Letting a vehicle through unpaid needs a reason.</source>
        <translation>未缴费放行需要填写原因。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Nothing was recorded: the vehicle may not leave unpaid.</source>
        <translation>未做任何记录：车辆不能未缴费离场。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../ui/main_window.py" line="+87"/>
        <source>Recoup</source>
        <translation>Recoup</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Enter plate</source>
        <translation>输入车牌</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Supervisor</source>
        <translation>主管</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Shift report</source>
        <translation>班次报表</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>&amp;Booth</source>
        <translation>岗亭(&amp;B)</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>No cameras on this booth: press F2 to enter a plate.</source>
        <translation>本岗亭没有摄像头：按 F2 输入车牌。</translation>
    </message>
    <message>
        <location line="+79"/>
        <source>Syncing with the server…</source>
        <translation>正在与服务器同步……</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Synced with the server.</source>
        <translation>已与服务器同步。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The server cannot be reached; the booth decides from its cache.</source>
        <translation>无法连接服务器；岗亭将根据本地缓存判断。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Sync failed: {error}</source>
        <translation>同步失败：{error}</translation>
    </message>
</context>
<context>
    <name>ManualEntryDialog</name>
    <message>
        <location filename="../../ui/manual_entry.py" line="+37"/>
        <source>Type a plate</source>
        <translation>输入车牌</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>e.g. ABC123</source>
        <translation>例如 京A12345</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Check plate [Enter]</source>
        <translation>查询车牌 [Enter]</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Cancel [Esc]</source>
        <translation>取消 [Esc]</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Plate</source>
        <translation>车牌</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lane</source>
        <translation>车道</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Type the plate first.</source>
        <translation>请先输入车牌。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A plate needs letters or digits; {text} has none.</source>
        <translation>车牌需要包含字母或数字；{text} 中没有。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>That is too long for a plate ({count} characters).</source>
        <translation>车牌太长（{count} 个字符）。</translation>
    </message>
</context>
<context>
    <name>NoticeDialog</name>
    <message>
        <location filename="../../ui/notice/dialog.py" line="+91"/>
        <source>Unpaid parking: {plate}</source>
        <translation>停车欠费：{plate}</translation>
    </message>
    <message>
        <location line="+71"/>
        <source>Notices waiting after this one: {count}</source>
        <translation>之后等待处理的欠费提示：{count} 条</translation>
    </message>
    <message>
        <location line="+305"/>
        <source>Let go (reminded)</source>
        <translation>已提醒，放行</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Ask for a waiver</source>
        <translation>申请减免</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Card</source>
        <translation>刷卡</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>QR code</source>
        <translation>二维码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Driver disputes</source>
        <translation>司机有异议</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Wrong plate</source>
        <translation>车牌有误</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Collect the payment: F5 cash, F6 card, F7 QR code. F8 if the driver disputes, F9 to remind the driver and let them go, F2 if the plate is wrong.</source>
        <translation>收费：F5 现金，F6 刷卡，F7 二维码。司机有异议按 F8，提醒司机后放行按 F9，车牌有误按 F2。</translation>
    </message>
    <message>
        <location line="-223"/>
        <location line="+11"/>
        <location line="+10"/>
        <source>This notice stays open until you pick an action.</source>
        <translation>选择处理方式之前，此提示不会关闭。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Recording...</source>
        <translation>正在记录……</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>Could not record this ({error}). Nothing was saved; try again.</source>
        <translation>无法记录（{error}）。未保存任何内容；请重试。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>This notice already has an outcome: {what}. Nothing new was recorded.</source>
        <translation>此提示已有处理结果：{what}。未记录新内容。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Do not collect again.</source>
        <translation>请勿重复收费。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Recorded: {what}.</source>
        <translation>已记录：{what}。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Give change: {amount}</source>
        <translation>找零：{amount}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No change to give.</source>
        <translation>无需找零。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Close [Enter]</source>
        <translation>关闭 [Enter]</translation>
    </message>
    <message>
        <location line="+92"/>
        <source>Collect the payment: F5 cash, F6 card, F7 QR code. F8 if the driver disputes, F9 to ask a supervisor to waive the debt, F2 if the plate is wrong.</source>
        <translation>请收费：F5 现金，F6 刷卡，F7 二维码。司机有异议按 F8，请主管减免欠费按 F9，车牌有误按 F2。</translation>
    </message>
</context>
<context>
    <name>NoticeSummary</name>
    <message>
        <location filename="../../ui/notice/summary.py" line="+35"/>
        <source>{plate} owes unpaid parking  ·  {lane}</source>
        <translation>{plate} 有停车欠费  ·  {lane}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>No plate picture</source>
        <translation>无车牌图片</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No snapshot</source>
        <translation>无抓拍图片</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Amount owed</source>
        <translation>欠费金额</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>Car park</source>
        <translation>停车场</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entered</source>
        <translation>入场时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Duration</source>
        <translation>停车时长</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Owed ({currency})</source>
        <translation>欠费（{currency}）</translation>
    </message>
</context>
<context>
    <name>PinEntry</name>
    <message>
        <location filename="../../ui/pin_dialog.py" line="+52"/>
        <source>supervisor PIN</source>
        <translation>主管 PIN 码</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Type the supervisor&apos;s PIN first.</source>
        <translation>请先输入主管 PIN 码。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Checking the PIN...</source>
        <translation>正在验证 PIN 码……</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>PIN accepted.</source>
        <translation>PIN 码正确。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Wrong PIN ({count} failed); try again.</source>
        <translation>PIN 错误（已失败 {count} 次），请重试。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The PIN could not be checked; nothing was unlocked.</source>
        <translation>无法验证 PIN 码；未解锁。</translation>
    </message>
</context>
<context>
    <name>PinPage</name>
    <message>
        <location filename="../../ui/settings/pin_page.py" line="+25"/>
        <source>New PIN</source>
        <translation>新 PIN 码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New PIN again</source>
        <translation>再次输入新 PIN 码</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+23"/>
        <source>Supervisor PIN</source>
        <translation>主管 PIN 码</translation>
    </message>
    <message>
        <location line="-21"/>
        <source>A PIN is set. Leave both fields empty to keep it.</source>
        <translation>已设置 PIN 码。两栏都留空则保持不变。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No PIN is set: anyone can open the settings. Set one now.</source>
        <translation>尚未设置 PIN 码：任何人都能打开设置。请立即设置。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>4 to 12 digits. Only a hash of the PIN is stored.</source>
        <translation>4 到 12 位数字。只保存 PIN 码的哈希值。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>the two PINs are not the same</source>
        <translation>两次输入的 PIN 码不一致</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>a PIN is 4 to 12 digits</source>
        <translation>PIN 码应为 4 到 12 位数字</translation>
    </message>
</context>
<context>
    <name>QrForm</name>
    <message>
        <location filename="../../ui/notice/qr.py" line="+57"/>
        <source>QR code: the driver scans it and pays {owed} by phone.</source>
        <translation>二维码：司机用手机扫码支付 {owed}。</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>Asking the server for a payment code...</source>
        <translation>正在向服务器申请收款码……</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>The payment server cannot be reached, so QR payment is not possible now. Take cash [F5] or card [F6] instead.</source>
        <translation>无法连接支付服务器，暂时不能扫码支付。请改收现金 [F5] 或刷卡 [F6]。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The server says this debt is already paid: do not collect it again. Ask a supervisor if the driver disagrees.</source>
        <translation>服务器显示此欠费已缴清：请勿重复收费。如司机有异议，请联系主管。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The server refused the QR payment ({reason}). Take cash [F5] or card [F6].</source>
        <translation>服务器拒绝了扫码支付（{reason}）。请收现金 [F5] 或刷卡 [F6]。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The server&apos;s answer made no sense, so QR payment is not possible now. Take cash [F5] or card [F6] instead.</source>
        <translation>服务器的应答无法识别，暂时不能扫码支付。请改收现金 [F5] 或刷卡 [F6]。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>QR payment failed. Take cash [F5] or card [F6] instead.</source>
        <translation>扫码支付失败。请改收现金 [F5] 或刷卡 [F6]。</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>The server no longer knows this payment code. Press F7 for a new code, or take cash [F5] or card [F6].</source>
        <translation>服务器已找不到此收款码。按 F7 生成新二维码，或收现金 [F5]、刷卡 [F6]。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Cannot reach the payment server; still checking. If the driver&apos;s phone says paid, wait; otherwise take cash or card.</source>
        <translation>无法连接支付服务器，仍在查询。如果司机手机显示已支付，请稍候；否则请收现金或刷卡。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Waiting for payment of {amount}...</source>
        <translation>等待支付 {amount}……</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The code is valid until {time}.</source>
        <translation>此二维码有效期至 {time}。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Paid by QR code.</source>
        <translation>已扫码支付。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>The code expired</source>
        <translation>二维码已过期</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The payment was cancelled</source>
        <translation>支付已取消</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{what}. Press F7 for a new code, or take cash [F5] or card [F6].</source>
        <translation>{what}。按 F7 生成新二维码，或收现金 [F5]、刷卡 [F6]。</translation>
    </message>
</context>
<context>
    <name>ReadsList</name>
    <message>
        <location filename="../../ui/reads_list.py" line="+192"/>
        <source>Recent reads</source>
        <translation>最近识别</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Enter or double-click an owing row to open its notice again</source>
        <translation>在欠费行上按 Enter 或双击，可再次打开其欠费提示</translation>
    </message>
</context>
<context>
    <name>ReadsModel</name>
    <message>
        <location line="-146"/>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lane</source>
        <translation>车道</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Plate</source>
        <translation>车牌</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Read</source>
        <translation>识别方式</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decision</source>
        <translation>判定</translation>
    </message>
</context>
<context>
    <name>RecognitionPage</name>
    <message>
        <location filename="../../ui/settings/recognition_page.py" line="+49"/>
        <source>China</source>
        <extracomment>The Python package each engine needs (checked without importing it).</extracomment>
        <translation>中国</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>United States</source>
        <translation>美国</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Europe</source>
        <translation>欧洲</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Brazil</source>
        <translation>巴西</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Other (any format)</source>
        <translation>其他（任意格式）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Chinese plates only: given to a plate whose own province character cannot be read (dirt, a cover).</source>
        <translation>仅用于中国车牌：车牌自身的省份简称无法识别时（污损、遮挡）使用此省份。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>RapidOCR (fast, built in)</source>
        <translation>RapidOCR（快速，内置）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>EasyOCR (optional, slower)</source>
        <translation>EasyOCR（可选，较慢）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>RapidOCR is not installed: reinstall Recoup to restore it.</source>
        <translation>未安装 RapidOCR：请重新安装 Recoup 以恢复。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>EasyOCR is not installed: run scripts/install-easyocr.sh on this PC, then restart Recoup.</source>
        <translation>未安装 EasyOCR：请在本机运行 scripts/install-easyocr.sh，然后重启 Recoup。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>This engine is not installed.</source>
        <translation>此引擎未安装。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Plate format</source>
        <translation>车牌格式</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Local province</source>
        <translation>本地省份</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>OCR engine</source>
        <translation>OCR 引擎</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+15"/>
        <source>Recognition</source>
        <translation>车牌识别</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>The plate format checks and corrects what the camera reads. The OCR engine reads the plates on this PC.</source>
        <translation>车牌格式用于校验和纠正摄像头识别的结果。OCR 引擎在本机上识别车牌。</translation>
    </message>
</context>
<context>
    <name>ReviewWindow</name>
    <message>
        <location filename="../../ui/supervisor/review_window.py" line="+119"/>
        <source>Supervisor review</source>
        <extracomment>(status sent to the server, or None for &quot;listed now&quot;); labels are translated in the widget.</extracomment>
        <translation>主管审核</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Listed now (active and disputed)</source>
        <translation>当前在列（有效及有异议）</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+271"/>
        <source>Active</source>
        <translation>有效</translation>
    </message>
    <message>
        <location line="-270"/>
        <location line="+271"/>
        <location line="+105"/>
        <source>Disputed</source>
        <translation>有异议</translation>
    </message>
    <message>
        <location line="-375"/>
        <location line="+271"/>
        <location line="+105"/>
        <source>Waived</source>
        <translation>已减免</translation>
    </message>
    <message>
        <location line="-375"/>
        <location line="+271"/>
        <source>Cleared</source>
        <translation>已清除</translation>
    </message>
    <message>
        <location line="-266"/>
        <source>Search plate (look-alikes match)</source>
        <translation>搜索车牌（相似字符也会匹配）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export CSV</source>
        <translation>导出 CSV</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Plate</source>
        <translation>车牌</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+31"/>
        <location line="+49"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="-79"/>
        <location line="+38"/>
        <source>Amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <location line="-37"/>
        <source>Sessions</source>
        <translation>停车记录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lots</source>
        <translation>停车场</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last seen</source>
        <translation>最近出现</translation>
    </message>
    <message>
        <location line="+17"/>
        <location line="+293"/>
        <source>Select a vehicle to see its file.</source>
        <translation>选择一辆车查看其档案。</translation>
    </message>
    <message>
        <location line="-289"/>
        <source>Session</source>
        <translation>停车记录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lot</source>
        <translation>停车场</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entered</source>
        <translation>入场</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Exited</source>
        <translation>出场</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fee</source>
        <translation>费用</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+328"/>
        <source>Unpaid</source>
        <translation>未付</translation>
    </message>
    <message>
        <location line="-322"/>
        <source>Recorded</source>
        <translation>记录时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outcome</source>
        <translation>处理结果</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Method</source>
        <translation>方式</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Lane</source>
        <translation>车道</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attendant</source>
        <translation>收费员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Dismiss (false positive)...</source>
        <translation>撤销（误报）…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resolve dispute...</source>
        <translation>处理异议…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Audit log of this vehicle</source>
        <translation>该车辆的审计日志</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Parking sessions</source>
        <translation>停车记录</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Outcomes</source>
        <translation>处理结果</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Evidence images</source>
        <translation>证据图片</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Flagged vehicles</source>
        <translation>标记车辆</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Waiver requests</source>
        <translation>减免申请</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Audit log</source>
        <translation>审计日志</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>1 failed login on your account since your last login. If that was not you, tell IT.</source>
        <translation>自您上次登录以来，您的账户有 1 次登录失败。如果不是您本人，请告知 IT 人员。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{count} failed logins on your account since your last login. If that was not you, tell IT.</source>
        <translation>自您上次登录以来，您的账户有 {count} 次登录失败。如果不是您本人，请告知 IT 人员。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>1 failed login on your account since your last login, from {address} at {time}. If that was not you, tell IT.</source>
        <translation>自您上次登录以来，您的账户有 1 次登录失败，来自 {address}，时间 {time}。如果不是您本人，请告知 IT 人员。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{count} failed logins on your account since your last login, the last from {address} at {time}. If that was not you, tell IT.</source>
        <translation>自您上次登录以来，您的账户有 {count} 次登录失败，最近一次来自 {address}，时间 {time}。如果不是您本人，请告知 IT 人员。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>an unknown address</source>
        <translation>未知地址</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>Loading flagged vehicles...</source>
        <translation>正在加载标记车辆…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>{count} flagged vehicles.</source>
        <translation>共 {count} 辆标记车辆。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Showing {count} of {total} flagged vehicles.</source>
        <translation>显示 {total} 辆标记车辆中的 {count} 辆。</translation>
    </message>
    <message>
        <location line="+77"/>
        <source>Loading the file of {plate}...</source>
        <translation>正在加载 {plate} 的档案…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The file of {plate} could not be loaded.</source>
        <translation>无法加载 {plate} 的档案。</translation>
    </message>
    <message>
        <location line="+63"/>
        <source>Paid</source>
        <translation>已付</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Dismiss {plate} as a false positive</source>
        <translation>将 {plate} 作为误报撤销</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A reason is required; nothing was dismissed.</source>
        <translation>必须填写原因；未撤销任何内容。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Upheld (waive the disputed sessions)</source>
        <translation>异议成立（减免有异议的停车记录）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Rejected (owes)</source>
        <translation>异议驳回（仍欠费）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Resolve dispute</source>
        <translation>处理异议</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decision for {plate}</source>
        <translation>{plate} 的处理决定</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Resolve the dispute of {plate}</source>
        <translation>处理 {plate} 的异议</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A reason is required; the dispute stays open.</source>
        <translation>必须填写原因；异议仍未处理。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Reason (kept in the audit log)</source>
        <translation>原因（记入审计日志）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Sending the decision...</source>
        <translation>正在提交决定…</translation>
    </message>
    <message>
        <location line="-203"/>
        <source>Decision recorded.</source>
        <translation>决定已记录。</translation>
    </message>
    <message>
        <location line="+93"/>
        <source>{plate}: owes {amount} · parking sessions: {sessions} · outcomes: {outcomes}</source>
        <translation>{plate}：欠费 {amount} · 停车记录：{sessions} · 处理结果：{outcomes}</translation>
    </message>
    <message>
        <location line="+154"/>
        <source>Export flagged vehicles</source>
        <translation>导出标记车辆</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>CSV (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>The CSV file could not be written: {error}</source>
        <translation>无法写入 CSV 文件：{error}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Exported {count} rows to {path}.</source>
        <translation>已导出 {count} 行到 {path}。</translation>
    </message>
</context>
<context>
    <name>ServerPage</name>
    <message>
        <location filename="../../ui/settings/server_page.py" line="+46"/>
        <source>unchanged</source>
        <translation>保持不变</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>not set</source>
        <translation>未设置</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Booth ID</source>
        <translation>岗亭编号</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Booth token</source>
        <translation>岗亭令牌</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+30"/>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <location line="-28"/>
        <source>The operator server that keeps parking history and the blacklist.</source>
        <translation>保存停车记录和黑名单的运营服务器。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>A token is set. Leave the field empty to keep it.</source>
        <translation>已设置令牌。此栏留空则保持不变。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No token is set yet: enter the token issued for this booth.</source>
        <translation>尚未设置令牌：请输入为本岗亭签发的令牌。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The environment variable {name} sets the token; it wins over a token entered here.</source>
        <translation>环境变量 {name} 已设置令牌，它优先于此处输入的令牌。</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>the token must not contain spaces</source>
        <translation>令牌不能包含空格</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Enter the server address first.</source>
        <translation>请先输入服务器地址。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Enter the booth token first.</source>
        <translation>请先输入岗亭令牌。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Connecting...</source>
        <translation>正在连接……</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Connected, server time {time}.</source>
        <translation>已连接，服务器时间 {time}。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>But the server knows this token as booth {server_id}, not {booth_id}.</source>
        <translation>但服务器认定此令牌属于岗亭 {server_id}，而不是 {booth_id}。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Cannot connect to the server: {detail}</source>
        <translation>无法连接服务器：{detail}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The server refused the booth token. Check the token and booth ID.</source>
        <translation>服务器拒绝了岗亭令牌。请检查令牌和岗亭编号。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The server refused the request: {detail}</source>
        <translation>服务器拒绝了请求：{detail}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cannot test: {detail}</source>
        <translation>无法测试：{detail}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The server&apos;s answer was not understood: {detail}</source>
        <translation>无法识别服务器的应答：{detail}</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../ui/settings/dialog.py" line="+63"/>
        <source>Recoup settings</source>
        <translation>Recoup 设置</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Set by environment variables, which win over what is saved here: {names}</source>
        <translation>以下设置由环境变量指定，优先于此处保存的值：{names}</translation>
    </message>
    <message>
        <location line="+56"/>
        <source>Could not save the settings to {path}: {reason}</source>
        <translation>无法将设置保存到 {path}：{reason}</translation>
    </message>
</context>
<context>
    <name>ShiftReportDialog</name>
    <message>
        <location filename="../../ui/shift_report.py" line="+68"/>
        <location line="+264"/>
        <source>Shift report</source>
        <translation>班次报表</translation>
    </message>
    <message>
        <location line="-248"/>
        <location line="+204"/>
        <source>Attendant</source>
        <translation>收费员</translation>
    </message>
    <message>
        <location line="-202"/>
        <source>Day</source>
        <translation>日期</translation>
    </message>
    <message>
        <location line="+39"/>
        <location line="+176"/>
        <source>Item</source>
        <translation>项目</translation>
    </message>
    <message>
        <location line="-176"/>
        <location line="+177"/>
        <source>Count</source>
        <translation>数量</translation>
    </message>
    <message>
        <location line="-177"/>
        <location line="+178"/>
        <source>Amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <location line="-163"/>
        <source>Save PDF… [Ctrl+S]</source>
        <translation>保存 PDF… [Ctrl+S]</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Close [Esc]</source>
        <translation>关闭 [Esc]</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Adding up the shift…</source>
        <translation>正在汇总本班次…</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>The shift report could not be read: {error}</source>
        <translation>无法读取班次报表：{error}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Booth {booth} · {attendant} · {start} – {end}</source>
        <translation>岗亭 {booth} · {attendant} · {start} – {end}</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Notices raised</source>
        <translation>发出的欠费提示</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Paid</source>
        <translation>已付</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Disputed</source>
        <translation>有异议</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Waived</source>
        <translation>已减免</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Left unpaid</source>
        <translation>未付放行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Collected by cash</source>
        <translation>现金收款</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Collected by card</source>
        <translation>刷卡收款</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Collected by QR</source>
        <translation>二维码收款</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Total collected</source>
        <translation>收款合计</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Save shift report</source>
        <translation>保存班次报表</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>PDF files (*.pdf)</source>
        <translation>PDF 文件 (*.pdf)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Could not save the PDF: {error}</source>
        <translation>无法保存 PDF：{error}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Booth</source>
        <translation>岗亭</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Shift start</source>
        <translation>班次开始</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Shift end</source>
        <translation>班次结束</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Printed</source>
        <translation>打印时间</translation>
    </message>
</context>
<context>
    <name>SupervisorLoginDialog</name>
    <message>
        <location filename="../../ui/supervisor/login_dialog.py" line="+56"/>
        <source>Supervisor login</source>
        <translation>主管登录</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>supervisor PIN</source>
        <translation>主管 PIN</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Log in offline with PIN</source>
        <translation>使用 PIN 离线登录</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Type your username and password.</source>
        <translation>请输入用户名和密码。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The server address in the settings is not usable.</source>
        <translation>设置中的服务器地址不可用。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Checking with the server...</source>
        <translation>正在向服务器核验…</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>The login failed unexpectedly; see the log.</source>
        <translation>登录意外失败，请查看日志。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Too many failed logins from this booth. Wait a few minutes, then try again.</source>
        <translation>本岗亭登录失败次数过多。请等待几分钟后再试。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Too many failed logins from this booth. Try again in {minutes} min.</source>
        <translation>本岗亭登录失败次数过多。请在 {minutes} 分钟后再试。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The server cannot be reached. You can log in offline with your PIN (valid up to {hours} hours after your last online login).</source>
        <translation>无法连接服务器。您可以使用 PIN 离线登录（上次在线登录后 {hours} 小时内有效）。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The server cannot be reached, and this supervisor has not logged in online at this booth, so there is no offline login. Try again later.</source>
        <translation>无法连接服务器，且该主管从未在本岗亭在线登录过，因此无法离线登录。请稍后再试。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Type your username and PIN.</source>
        <translation>请输入用户名和 PIN。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Checking the PIN...</source>
        <translation>正在核验 PIN…</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>The PIN could not be checked; see the log.</source>
        <translation>无法核验 PIN，请查看日志。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Your last online login is older than {hours} hours; an offline login is no longer allowed.</source>
        <translation>您上次在线登录已超过 {hours} 小时，不能再离线登录。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Wrong PIN; try again.</source>
        <translation>PIN 错误，请重试。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This supervisor has no offline login at this booth.</source>
        <translation>该主管在本岗亭没有离线登录资格。</translation>
    </message>
</context>
<context>
    <name>SupervisorPinDialog</name>
    <message>
        <location filename="../../ui/pin_dialog.py" line="+14"/>
        <source>Supervisor PIN</source>
        <translation>主管 PIN 码</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>A supervisor&apos;s PIN is needed to {purpose}.</source>
        <translation>需要主管 PIN 码才能{purpose}。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Unlock [Enter]</source>
        <translation>解锁 [Enter]</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Cancel [Esc]</source>
        <translation>取消 [Esc]</translation>
    </message>
</context>
<context>
    <name>WaiverForm</name>
    <message>
        <location filename="../../ui/notice/waiver.py" line="+75"/>
        <source>A waiver needs a supervisor. Say why the driver should not pay; the request goes to the supervisors. You can still take the payment meanwhile.</source>
        <translation>减免须经主管批准。请说明司机为何无需缴费，申请将发送给主管。等待期间仍可收费。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>e.g. ambulance on duty</source>
        <translation>例如：执勤救护车</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+10"/>
        <location line="+343"/>
        <source>Ask a supervisor</source>
        <translation>请主管批准</translation>
    </message>
    <message>
        <location line="-342"/>
        <source>Withdraw the request</source>
        <translation>撤回申请</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Approve with the supervisor&apos;s PIN</source>
        <translation>用主管 PIN 码批准</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Supervisor</source>
        <translation>主管</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Supervisor PIN</source>
        <translation>主管 PIN 码</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>A waiver request needs a reason.</source>
        <translation>减免申请需要填写原因。</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>Type the reason for the waiver first.</source>
        <translation>请先填写减免原因。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The supervisor&apos;s name and PIN are needed.</source>
        <translation>需要主管的用户名和 PIN 码。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Checking the PIN...</source>
        <translation>正在核对 PIN 码...</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Sending the request to the supervisors...</source>
        <translation>正在将申请发送给主管...</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>The server refused the request ({reason}). Collect the payment.</source>
        <translation>服务器拒绝了该申请（{reason}）。请收费。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Waiting for a supervisor... (asked at {time})</source>
        <translation>正在等待主管处理...（申请时间 {time}）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Approved by {supervisor}.</source>
        <translation>{supervisor} 已批准。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Refused by {supervisor}: {reason}. Collect the payment.</source>
        <translation>{supervisor} 已拒绝：{reason}。请收费。</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+11"/>
        <source>The waiver request was withdrawn.</source>
        <translation>减免申请已撤回。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Could not withdraw the request ({error}).</source>
        <translation>无法撤回申请（{error}）。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>The server cannot be reached and no supervisor has logged in online at this booth, so no waiver is possible now: without a supervisor there is no waiver. Collect the payment, or wait for the server.</source>
        <translation>无法连接服务器，且没有主管在本岗亭在线登录过，因此现在无法减免：没有主管就没有减免。请收费，或等待服务器恢复。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The server cannot be reached, so the request may not reach a supervisor (it is sent again as soon as the server is back). A supervisor at the booth can approve now with their PIN.</source>
        <translation>无法连接服务器，申请可能无法送达主管（服务器恢复后会重新发送）。在岗亭现场的主管可以现在用其 PIN 码批准。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The server cannot be reached; the request waits for it.</source>
        <translation>无法连接服务器；申请等待服务器恢复。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Approved by {supervisor} at the booth.</source>
        <translation>{supervisor} 已在岗亭现场批准。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>The PIN could not be checked. Nothing was recorded.</source>
        <translation>无法核对 PIN 码。未记录任何内容。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Wrong PIN. Nothing was recorded: no waiver without a supervisor.</source>
        <translation>PIN 码错误。未记录任何内容：没有主管就没有减免。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This supervisor&apos;s last online login here is too old; their PIN is not accepted offline. Nothing was recorded.</source>
        <translation>该主管在本岗亭的上次在线登录已过期，离线时不接受其 PIN 码。未记录任何内容。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>This supervisor has not logged in online at this booth, so their PIN is not known here. Nothing was recorded.</source>
        <translation>该主管未在本岗亭在线登录过，本岗亭不知道其 PIN 码。未记录任何内容。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Ask again</source>
        <translation>重新申请</translation>
    </message>
</context>
<context>
    <name>WaiverQueue</name>
    <message>
        <location filename="../../ui/supervisor/review_window.py" line="+35"/>
        <source>Asked</source>
        <translation>申请时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Plate</source>
        <translation>车牌</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sessions</source>
        <translation>停车记录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lane</source>
        <translation>车道</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attendant</source>
        <translation>收费员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Approve...</source>
        <translation>批准…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Refuse...</source>
        <translation>拒绝…</translation>
    </message>
    <message>
        <location line="+50"/>
        <source>{count} waiver requests wait for a decision.</source>
        <translation>{count} 条减免申请等待处理。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Approve the waiver for {plate}</source>
        <translation>批准 {plate} 的减免</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Refuse the waiver for {plate}</source>
        <translation>拒绝 {plate} 的减免</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reason (kept in the audit log)</source>
        <translation>原因（记入审计日志）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A reason is required; nothing was decided.</source>
        <translation>必须填写原因；未作出任何决定。</translation>
    </message>
</context>
<context>
    <name>WrongPlateForm</name>
    <message>
        <location filename="../../ui/notice/forms.py" line="+10"/>
        <source>Wrong plate? Type the plate as it is on the vehicle and check it again.</source>
        <translation>车牌有误？请按车辆上的实际车牌输入并重新查询。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>plate on the vehicle</source>
        <translation>车辆上的车牌</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Plate</source>
        <translation>车牌</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Check this plate</source>
        <translation>查询此车牌</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>A plate needs letters or digits.</source>
        <translation>车牌需要包含字母或数字。</translation>
    </message>
</context>
</TS>
