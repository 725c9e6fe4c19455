"""Simplified Chinese for every user-visible string (source text -> translation).

``python -m gui._zh_CN`` refreshes ``resources/i18n/blobscope_zh_CN.ts`` (pyside6-lupdate),
fills it from this table and compiles the ``.qm`` (pyside6-lrelease).
"""

ZH_CN = {
    "Open &Store…": "打开存储(&S)…",
    "&Import Files…": "导入文件(&I)…",
    "&Export Blob…": "导出 Blob(&E)…",
    "&Delete Blobs…": "删除 Blob(&D)…",
    "&Abort Ingests…": "中止写入(&A)…",
    "Edit &Labels…": "编辑标签(&L)…",
    "&Verify": "校验(&V)",
    "&Refresh": "刷新(&R)",
    "&Copy Digest": "复制摘要(&C)",
    "&Filter…": "筛选(&F)…",
    "&Quit": "退出(&Q)",
    "&About Blobscope": "关于 Blobscope(&A)",
    "Open another content store directory": "打开另一个内容存储目录",
    "Add files to the store as new content": "将文件作为新内容添加到存储中",
    "Save the selected blob's bytes to a file": "将所选 Blob 的内容保存到文件",
    "Delete the selected blobs from the store": "从存储中删除所选 Blob",
    "Abort the selected ingests and remove their data": "中止所选写入并删除其数据",
    "Edit the labels of the selected blob": "编辑所选 Blob 的标签",
    "Re-hash the selected blobs (all blobs when none is selected)": "重新计算所选 Blob 的哈希（未选择时校验全部）",
    "Read the store again": "重新读取存储",
    "Copy the selected digests to the clipboard": "将所选摘要复制到剪贴板",
    "Jump to the filter box": "跳转到筛选框",
    "Close Blobscope": "关闭 Blobscope",
    "Version and license": "版本与许可证",
    "Digest": "摘要",
    "Size": "大小",
    "Created": "创建时间",
    "Updated": "更新时间",
    "Media type": "媒体类型",
    "Labels": "标签",
    "{digest}\nVerification failed: the content does not match its digest.":
        "{digest}\n校验失败：内容与其摘要不符。",
    "Digest:": "摘要：",
    "Size:": "大小：",
    "Created:": "创建时间：",
    "Updated:": "更新时间：",
    "Media type:": "媒体类型：",
    "Labels:": "标签：",
    "Preview": "预览",
    "No blob selected": "未选择 Blob",
    "Blob {short}": "Blob {short}",
    "unknown": "未知",
    "(none)": "（无）",
    "Blob {short} — content does not match its digest!": "Blob {short} — 内容与摘要不符！",
    "Reading…": "正在读取…",
    "This filter cannot be used: {reason}": "无法使用此筛选条件：{reason}",
    "This filter cannot be used: {selector} is not a valid regular expression.":
        "无法使用此筛选条件：{selector} 不是有效的正则表达式。",
    "Importing": "正在导入",
    "Cancel keeps what was written as an ingest; importing the same file again resumes it.":
        "取消后，已写入的数据会保留为一个写入任务；再次导入同一文件即可继续。",
    "File {i} of {n}: {name}": "第 {i} 个文件，共 {n} 个：{name}",
    "{done} of {total} — {speed}": "{done} / {total} — {speed}",
    "Cancelling…": "正在取消…",
    "Ref": "引用",
    "Progress": "进度",
    "Started": "开始时间",
    "Last update": "最后更新",
    "State": "状态",
    "damaged": "已损坏",
    "stalled": "已停滞",
    "active": "进行中",
    "{done} of {total} ({pct:.0f}%)": "{done} / {total}（{pct:.0f}%）",
    "{done} so far": "已写入 {done}",
    "Edit labels": "编辑标签",
    "Key": "键",
    "Value": "值",
    "&Add label": "添加标签(&A)",
    "&Remove": "删除(&R)",
    "Mark as GC &root": "标记为 GC 根(&R)",
    "Add containerd.io/gc.root so containerd's garbage collector keeps this blob":
        "添加 containerd.io/gc.root，使 containerd 的垃圾回收保留此 Blob",
    "Row {n}: the key is empty.": "第 {n} 行：键为空。",
    "Row {n}: the key {key} appears twice.": "第 {n} 行：键 {key} 出现了两次。",
    "Row {n}: the value is empty (remove the row to delete the label).":
        "第 {n} 行：值为空（要删除该标签，请删除这一行）。",
    "Row {n}: key and value are {size} bytes; containerd allows at most {max}.":
        "第 {n} 行：键和值共 {size} 字节；containerd 最多允许 {max} 字节。",
    "Log": "日志",
    "Actions": "操作",
    "Store": "存储",
    "READ-ONLY": "只读",
    "Store:": "存储：",
    'Filter: text in digest or labels, or containerd syntax such as labels."containerd.io/gc.root" or digest~=^sha256:ab':
        '筛选：摘要或标签中的文字，或 containerd 语法，例如 labels."containerd.io/gc.root" 或 digest~=^sha256:ab',
    "Ingests (writes in progress or interrupted)": "写入任务（进行中或已中断）",
    "Stop": "停止",
    "read-only": "只读",
    "&File": "文件(&F)",
    "Open &Recent": "最近打开(&R)",
    "&Edit": "编辑(&E)",
    "&View": "视图(&V)",
    "&Tools": "工具(&T)",
    "&Help": "帮助(&H)",
    "Opening…": "正在打开…",
    "Could not open the store at {path}.": "无法打开位于 {path} 的存储。",
    "Check that the directory exists and that you may read it.": "请检查该目录是否存在，以及您是否有读取权限。",
    "{root} — Blobscope": "{root} — Blobscope",
    "Scanning…": "正在扫描…",
    "Reading the store failed.": "读取存储失败。",
    "Press F5 to try again.": "按 F5 重试。",
    "{n} blobs selected": "已选择 {n} 个 Blob",
    "(preview shows the beginning only)": "（预览只显示开头部分）",
    "(empty blob)": "（空 Blob）",
    "Could not read this blob: {error}": "无法读取此 Blob：{error}",
    "The store is read-only: {reason}": "存储为只读：{reason}",
    "Open a content store": "打开内容存储",
    "Copied {n} digest(s).": "已复制 {n} 个摘要。",
    "Delete {n} blob(s), {size} in total?": "删除 {n} 个 Blob，共 {size}？",
    "This cannot be undone.": "此操作无法撤销。",
    "{n} of them are garbage-collection roots (containerd.io/gc.root): {list}":
        "其中 {n} 个是垃圾回收根（containerd.io/gc.root）：{list}",
    "{n} of them are referenced by other blobs' containerd.io/gc.ref.content labels, which will then point at missing content: {list}":
        "其中 {n} 个被其他 Blob 的 containerd.io/gc.ref.content 标签引用，删除后这些标签将指向不存在的内容：{list}",
    "Delete blobs": "删除 Blob",
    "Delete": "删除",
    "Deleted {n} blob(s).": "已删除 {n} 个 Blob。",
    "{n} of {total} blob(s) could not be deleted.": "{total} 个 Blob 中有 {n} 个无法删除。",
    "Deleting failed.": "删除失败。",
    "Abort {n} ingest(s) and remove {size} of partial data?": "中止 {n} 个写入任务并删除 {size} 的部分数据？",
    "An aborted ingest cannot be resumed; whoever was writing it has to start again.":
        "已中止的写入无法继续；写入方必须从头开始。",
    "Abort ingests": "中止写入",
    "Abort": "中止",
    "Aborted {n} ingest(s).": "已中止 {n} 个写入任务。",
    "{n} of {total} ingest(s) could not be aborted.": "{total} 个写入任务中有 {n} 个无法中止。",
    "Aborting failed.": "中止失败。",
    "Labels of {short}": "{short} 的标签",
    "Labels of {digest}. An empty table removes every label.": "{digest} 的标签。表格为空时将删除所有标签。",
    "Labels of {short} saved.": "已保存 {short} 的标签。",
    "The labels of {digest} were not changed.": "{digest} 的标签未被修改。",
    "Export blob {short}": "导出 Blob {short}",
    "Exported {size} to {path}.": "已将 {size} 导出到 {path}。",
    "Exporting {digest} to {path} failed.": "将 {digest} 导出到 {path} 失败。",
    "Verifying %v of %m": "正在校验 %v / %m",
    "Verified {n} blob(s): {bad} mismatch(es).": "已校验 {n} 个 Blob：{bad} 个不符。",
    "Verification": "校验",
    "{n} blob(s) do not match their digest; they are marked in red.": "{n} 个 Blob 与其摘要不符，已用红色标出。",
    "Verification failed.": "校验失败。",
    "Import files into the store": "将文件导入存储",
    "Labels for the imported content": "导入内容的标签",
    "Labels to put on {n} imported file(s); leave empty for none.": "为导入的 {n} 个文件添加的标签；留空表示不添加。",
    "Imported {n} file(s).": "已导入 {n} 个文件。",
    "Import cancelled; importing the same file again resumes it.": "导入已取消；再次导入同一文件即可继续。",
    "Importing {path} failed.": "导入 {path} 失败。",
    "About Blobscope": "关于 Blobscope",
    "Blobscope {version}\nA browser for containerd content stores.\nLicensed under the Apache License 2.0.":
        "Blobscope {version}\ncontainerd 内容存储浏览器。\n基于 Apache License 2.0 许可发布。",
    "{n} blobs, {size}": "{n} 个 Blob，{size}",
    " — {shown} shown": " — 显示 {shown} 个",
    " · {n} ingests": " · {n} 个写入任务",
    "Blobscope": "Blobscope",
    "containerd namespace": "containerd 命名空间",
    "Namespace:": "命名空间：",
    "Namespaces:": "所在命名空间：",
    "looking up…": "正在查找…",
    "Could not look up the namespaces: {error}": "无法查找命名空间：{error}",
    "Could not open namespace {ns}.": "无法打开命名空间 {ns}。",
    "The store directory {root} no longer exists. Recreate it and press F5, or open another store.":
        "存储目录 {root} 已不存在。请重新创建后按 F5，或打开其他存储。",
    # image graph, references, Images tab, layer browser (issue 5)
    "Select &Unreferenced": "选择未引用的 Blob(&U)",
    "&Browse Layer Files…": "浏览层中的文件(&B)…",
    "Select the blobs no image or gc.root label reaches (reclaimable)":
        "选择没有任何镜像或 gc.root 标签可达的 Blob（可回收）",
    "List the files inside the selected layer and preview their text": "列出所选层中的文件并预览其文本",
    "Images": "镜像",
    "Images ({n})": "镜像（{n}）",
    "Blobs": "Blob",
    "Working out the image graph…": "正在分析镜像引用图…",
    "Building the image graph…": "正在构建镜像引用图…",
    "The image graph could not be built: {error}": "无法构建镜像引用图：{error}",
    "{n} unreferenced ({size})": "{n} 个未引用（{size}）",
    "Blobs no image or gc.root label reaches: containerd's garbage collector would remove them. "
    "Edit ▸ Select Unreferenced selects them.":
        "没有任何镜像或 gc.root 标签可达的 Blob：containerd 的垃圾回收会删除它们。"
        "可用“编辑 ▸ 选择未引用的 Blob”选中它们。",
    "Blob {digest} is not in the store: something references it, but its content is missing.":
        "Blob {digest} 不在存储中：有内容引用了它，但其数据缺失。",
    "The filter was cleared to show {short}.": "已清除筛选条件以显示 {short}。",
    "The image graph is still being built; try again in a moment.": "镜像引用图仍在构建中，请稍后再试。",
    "No unreferenced blobs: every blob is reachable from an image or a gc.root label.":
        "没有未引用的 Blob：每个 Blob 都可从某个镜像或 gc.root 标签到达。",
    "Selected {n} unreferenced blob(s), {size}. Delete removes them.":
        "已选择 {n} 个未引用的 Blob，共 {size}。删除操作会移除它们。",
    "No image graph yet.": "尚无镜像引用图。",
    "{n} image(s); {shared} shared between images; {count} unreferenced blob(s), {reclaimable} reclaimable.":
        "{n} 个镜像；镜像间共享 {shared}；{count} 个未引用的 Blob，可回收 {reclaimable}。",
    "Image / blob": "镜像 / Blob",
    "Total": "总计",
    "Shared": "共享",
    "Unique": "独占",
    "(cycle: shown above)": "（循环引用：见上方）",
    "missing": "缺失",
    "Referenced, but not in the store.": "被引用，但不在存储中。",
    "{n} blobs: {total} in total, {shared} shared with other images, {unique} only in this one":
        "{n} 个 Blob：共 {total}，与其他镜像共享 {shared}，仅本镜像使用 {unique}",
    "{n} referenced blob(s) missing from the store": "{n} 个被引用的 Blob 不在存储中",
    "image index": "镜像索引",
    "manifest": "清单",
    "image config": "镜像配置",
    "layer": "层",
    "JSON": "JSON",
    "text": "文本",
    "binary": "二进制",
    "empty": "空",
    "Files in layer {short}": "层 {short} 中的文件",
    "Layer {digest}": "层 {digest}",
    "Select a file to see its text.": "选择一个文件以查看其文本。",
    "Reading the layer…": "正在读取层…",
    "Reading the layer… {n} entries so far": "正在读取层…已读取 {n} 个条目",
    "{n} entries, {size} in files.": "{n} 个条目，文件共 {size}。",
    "Stopped after {n} entries; the list is incomplete.": "读取 {n} 个条目后已停止；列表不完整。",
    "Could not list the files of layer {digest}: {error}": "无法列出层 {digest} 中的文件：{error}",
    "/{path} is a {type}; only files have a preview.": "/{path} 是 {type}；只有文件可以预览。",
    "Reading /{path}…": "正在读取 /{path}…",
    "(empty file)": "（空文件）",
    "/{path} is binary ({size}); only text is previewed.": "/{path} 是二进制文件（{size}）；仅预览文本。",
    "(preview shows the first {shown} of {size})": "（预览仅显示 {size} 中的前 {shown}）",
    "Could not read /{path}: {error}": "无法读取 /{path}：{error}",
    "Path": "路径",
    "Type": "类型",
    "Mode": "权限",
    "Modified": "修改时间",
    "whiteout": "删除标记",
    "References": "引用关系",
    "Edge": "引用名",
    "Blob": "Blob",
    "Kind": "种类",
    "Parents ({n})": "父项（{n}）",
    "Children ({n})": "子项（{n}）",
    "This blob is not in the store.": "此 Blob 不在存储中。",
    "Reachable: kept alive by {n} root(s).": "可达：由 {n} 个根保留。",
    "Unreferenced — reclaimable: no root reaches this blob, so containerd's garbage collector would remove it.":
        "未引用 — 可回收：没有任何根可到达此 Blob，containerd 的垃圾回收会删除它。",
    "… {n} more": "… 还有 {n} 个",
    "This blob is a root: {reason}": "此 Blob 是根：{reason}",
    "Kept alive by ({n})": "由以下根保留（{n}）",
    "(no references to or from this blob)": "（没有指向或来自此 Blob 的引用）",
    "Not in the store (referenced, but missing).": "不在存储中（被引用，但缺失）。",
    "from: {sources}": "来源：{sources}",
    "file": "文件",
    "directory": "目录",
    "symlink": "符号链接",
    "hard link": "硬链接",
    "char device": "字符设备",
    "block device": "块设备",
    "fifo": "管道",
    # sources, compare and connection (node-ui)
    'Compare Sources': '比较来源',
    'Compare': '比较',
    'Compare with:': '比较对象：',
    'There is no other source to compare with: add one with Sources…': '没有可比较的其他来源：请通过“来源…”添加一个',
    'Listing both sources…': '正在列出两个来源…',
    'The comparison failed: {why}': '比较失败：{why}',
    'Only in this source ({n}, {size})': '仅在此来源中（{n} 个，{size}）',
    'Only in {other} ({n}, {size})': '仅在 {other} 中（{n} 个，{size}）',
    '{here} and {there}: {both} blobs in both, {a} only here, {b} only there.': '{here} 与 {there}：{both} 个 Blob 两边都有，{a} 个仅在此处，{b} 个仅在对方。',
    '&Sources…': '来源(&S)…',
    'Keep a list of stores and containerd daemons, and switch between them': '保存存储和 containerd 守护进程的列表，并在它们之间切换',
    '&Compare with…': '比较(&C)…',
    'Show the blobs this source has and another lacks, and the other way round': '显示此来源有而另一来源没有的 Blob，反之亦然',
    'S&ources': '来源(&O)',
    'Saved sources: pick one to switch to it': '已保存的来源：选择一个即可切换',
    'Source:': '来源：',
    'Sources…': '来源…',
    'connection lost': '连接已断开',
    'containerd is running': 'containerd 正在运行',
    '{root} belongs to a containerd daemon that is running now.': '{root} 属于一个正在运行的 containerd 守护进程。',
    "Reading its files behind its back can show a half-written state, and changing them corrupts the daemon's view. Connect through its socket {address} instead? (Cancel shows the files read-only.)": '绕过它直接读取文件可能看到写了一半的状态，修改文件会破坏守护进程的视图。改为通过它的套接字 {address} 连接吗？（取消则以只读方式显示文件。）',
    'Connect through the socket': '通过套接字连接',
    'Could not open {target}.': '无法打开 {target}。',
    'Check the address and that the daemon runs; Sources… edits the list.': '请检查地址以及守护进程是否在运行；“来源…”可编辑列表。',
    'containerd at {address} does not answer': '{address} 上的 containerd 没有响应',
    'Lost the connection: {why}. Reconnecting by itself; F5 tries at once.': '连接已断开：{why}。正在自动重连；按 F5 立即重试。',
    'Connected again to {source}.': '已重新连接到 {source}。',
    'Sources': '来源',
    '/path/to/store, unix:///run/containerd/containerd.sock or tcp://host:port': '/path/to/store、unix:///run/containerd/containerd.sock 或 tcp://host:port',
    'optional display name, e.g. node-3': '可选的显示名称，例如 node-3',
    'CA certificate (PEM), tcp:// only': 'CA 证书（PEM），仅用于 tcp://',
    'client certificate (PEM)': '客户端证书（PEM）',
    'client key (PEM)': '客户端密钥（PEM）',
    'Directory or address:': '目录或地址：',
    'Name:': '名称：',
    'TLS CA:': 'TLS CA：',
    'TLS certificate:': 'TLS 证书：',
    'TLS key:': 'TLS 密钥：',
    'Add / Update': '添加 / 更新',
    'Directory…': '目录…',
    'Remove': '移除',
    'Open': '打开',
    'Give a directory or an address.': '请输入一个目录或地址。',
    '{target}: use unix:// or tcp:// addresses, or a directory.': '{target}：请使用 unix:// 或 tcp:// 地址，或一个目录。',
    'TLS settings are for tcp:// addresses only.': 'TLS 设置仅适用于 tcp:// 地址。',
    'The TLS certificate and key go together.': 'TLS 证书和密钥必须同时提供。',
    'There is no file {path}.': '文件 {path} 不存在。',
    'Choose a store or containerd root': '选择一个存储或 containerd 根目录',
    '(not in the list)': '（不在列表中）',
    # image layers as dive shows them (gui/images/image_layers.py, change_tree.py)
    "Image &Layers…": "镜像层(&L)…",
    "Show the selected image's layers: each one's changes, the squashed files, wasted space and efficiency":
        "显示所选镜像的各层：每层的变更、合并后的文件、浪费的空间和效率",
    "Name": "名称",
    "Change": "变更",
    "Layer": "层",
    "Changes": "变更",
    "#": "#",
    "added": "新增",
    "modified": "修改",
    "deleted": "删除",
    "Layers of {image}": "{image} 的各层",
    "Show the whole image (squashed)": "显示整个镜像（合并后）",
    "Reading the layers…": "正在读取各层…",
    "Stopped; nothing is shown.": "已停止；不显示任何内容。",
    "Could not read the layers of {digest}: {error}": "无法读取 {digest} 的各层：{error}",
    "Files in all layers {total} · squashed image {squashed} · wasted {wasted} · efficiency {efficiency}":
        "所有层中的文件 {total} · 合并后的镜像 {squashed} · 浪费 {wasted} · 效率 {efficiency}",
    "{n} problems; the first: {first}": "{n} 个问题；第一个：{first}",
    "{added} added ({ab}), {modified} modified ({mb}), {deleted} deleted ({db})":
        "新增 {added} 个（{ab}），修改 {modified} 个（{mb}），删除 {deleted} 个（{db}）",
    "The squashed image: every path, with the layer it comes from": "合并后的镜像：每个路径及其来源层",
    "Layer {i}: its changes against the layers below": "第 {i} 层：相对于下面各层的变更",
    "Show as a tree": "以树形显示",
    "By dive's own formula: efficiency {efficiency}, wasted {wasted}": "按 dive 自己的算法：效率 {efficiency}，浪费 {wasted}",
}


def main() -> int:
    """Refresh the .ts from the sources, fill it from ZH_CN, compile the .qm."""
    import subprocess
    import sys
    import xml.etree.ElementTree as ET
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    ts = repo / "resources" / "i18n" / "blobscope_zh_CN.ts"
    bindir = Path(sys.executable).parent
    sources = sorted(str(p) for p in (repo / "gui").rglob("*.py") if p.name != "_zh_CN.py")
    subprocess.run([str(bindir / "pyside6-lupdate"), *sources, "-no-obsolete", "-locations", "none",
                    "-ts", str(ts), "-target-language", "zh_CN"], check=True)
    tree = ET.parse(ts)
    missing = []
    for msg in tree.getroot().iter("message"):
        source, tr = msg.find("source"), msg.find("translation")
        if source is None or tr is None:
            raise SystemExit(f"{ts}: a <message> without <source> or <translation>")
        src = source.text or ""
        if src in ZH_CN:
            tr.text = ZH_CN[src]
            tr.attrib.pop("type", None)
        else:
            missing.append(src)
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    with open(ts, "r", encoding="utf-8") as f:
        body = f.read()
    if "<!DOCTYPE TS>" not in body:
        body = body.replace("?>\n", "?>\n<!DOCTYPE TS>\n", 1)
        ts.write_text(body, encoding="utf-8")
    subprocess.run([str(bindir / "pyside6-lrelease"), str(ts), "-qm", str(ts.with_suffix(".qm"))], check=True)
    for m in missing:
        print(f"untranslated: {m!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
