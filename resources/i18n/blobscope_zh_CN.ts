<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AbortIngests</name>
    <message>
        <source>Abort {n} ingest(s) and remove {size} of partial data?</source>
        <translation>中止 {n} 个写入任务并删除 {size} 的部分数据？</translation>
    </message>
    <message>
        <source>An aborted ingest cannot be resumed; whoever was writing it has to start again.</source>
        <translation>已中止的写入无法继续；写入方必须从头开始。</translation>
    </message>
    <message>
        <source>Abort ingests</source>
        <translation>中止写入</translation>
    </message>
    <message>
        <source>Abort</source>
        <translation>中止</translation>
    </message>
    <message>
        <source>Aborted {n} ingest(s).</source>
        <translation>已中止 {n} 个写入任务。</translation>
    </message>
    <message>
        <source>{n} of {total} ingest(s) could not be aborted.</source>
        <translation>{total} 个写入任务中有 {n} 个无法中止。</translation>
    </message>
    <message>
        <source>Aborting failed.</source>
        <translation>中止失败。</translation>
    </message>
</context>
<context>
    <name>About</name>
    <message>
        <source>About Blobscope</source>
        <translation>关于 Blobscope</translation>
    </message>
    <message>
        <source>Blobscope {version}
A browser for containerd content stores.
Licensed under the Apache License 2.0.</source>
        <translation>Blobscope {version}
containerd 内容存储浏览器。
基于 Apache License 2.0 许可发布。</translation>
    </message>
</context>
<context>
    <name>Actions</name>
    <message>
        <source>Open &amp;Store…</source>
        <translation>打开存储(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Import Files…</source>
        <translation>导入文件(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;Export Blob…</source>
        <translation>导出 Blob(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Delete Blobs…</source>
        <translation>删除 Blob(&amp;D)…</translation>
    </message>
    <message>
        <source>&amp;Abort Ingests…</source>
        <translation>中止写入(&amp;A)…</translation>
    </message>
    <message>
        <source>Edit &amp;Labels…</source>
        <translation>编辑标签(&amp;L)…</translation>
    </message>
    <message>
        <source>&amp;Verify</source>
        <translation>校验(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Copy Digest</source>
        <translation>复制摘要(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Filter…</source>
        <translation>筛选(&amp;F)…</translation>
    </message>
    <message>
        <source>Select &amp;Unreferenced</source>
        <translation>选择未引用的 Blob(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Browse Layer Files…</source>
        <translation>浏览层中的文件(&amp;B)…</translation>
    </message>
    <message>
        <source>&amp;Analyse Disk</source>
        <translation>分析磁盘(&amp;A)</translation>
    </message>
    <message>
        <source>Measure the containerd root's content, snapshots, ingests and metadata, and predict its garbage collector (Disk tab)</source>
        <translation>测量 containerd 根目录的内容、快照、写入和元数据，并预测其垃圾回收（“磁盘”标签页）</translation>
    </message>
    <message>
        <source>Copy &amp;Why-Chain</source>
        <translation>复制保留原因链(&amp;W)</translation>
    </message>
    <message>
        <source>Copy why the selected Disk item is alive, from a root, one link a line</source>
        <translation>复制所选磁盘项目为何仍被保留（从根开始，每行一环）</translation>
    </message>
    <message>
        <source>Remove &amp;Lease…</source>
        <translation>移除租约(&amp;L)…</translation>
    </message>
    <message>
        <source>End the selected lease (or the one keeping the selected item) through the running daemon</source>
        <translation>通过运行中的守护进程结束所选租约（或保留所选项目的租约）</translation>
    </message>
    <message>
        <source>Remove &amp;gc.root Label…</source>
        <translation>移除 gc.root 标签(&amp;G)…</translation>
    </message>
    <message>
        <source>Remove containerd.io/gc.root from the blob the selected item's chain starts at, through the running daemon</source>
        <translation>通过运行中的守护进程，从所选项目引用链起点的 Blob 上移除 containerd.io/gc.root</translation>
    </message>
    <message>
        <source>Run &amp;Garbage Collection Now…</source>
        <translation>立即执行垃圾回收(&amp;G)…</translation>
    </message>
    <message>
        <source>Ask the running daemon for a garbage collection: the freed bytes are predicted first and measured after</source>
        <translation>请求运行中的守护进程执行垃圾回收：先预测将释放的字节数，之后再实际测量</translation>
    </message>
    <message>
        <source>Delete &amp;Orphaned Snapshot Directory…</source>
        <translation>删除孤立快照目录(&amp;O)…</translation>
    </message>
    <message>
        <source>Delete a snapshot directory no record names, on a stopped containerd root</source>
        <translation>在已停止的 containerd 根目录中删除没有任何记录指向的快照目录</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Query again the nodes whose daemon reported a change or whose event stream is down; the others keep their listing</source>
        <translation>重新查询守护进程报告了变化或事件流已中断的节点；其余节点保留其列表</translation>
    </message>
    <message>
        <source>Refresh Selected</source>
        <translation>刷新所选</translation>
    </message>
    <message>
        <source>Query the selected nodes again, whatever their events said</source>
        <translation>重新查询所选节点，不论其事件如何</translation>
    </message>
    <message>
        <source>Refresh All</source>
        <translation>全部刷新</translation>
    </message>
    <message>
        <source>Query every node of the fleet file again (a blob written on a node publishes no event)</source>
        <translation>重新查询集群文件中的每个节点（在节点上写入 Blob 不会发布事件）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop the query: nodes still running are dropped</source>
        <translation>停止查询：仍在运行的节点将被放弃</translation>
    </message>
    <message>
        <source>Drift only</source>
        <translation>仅显示差异</translation>
    </message>
    <message>
        <source>Only digests present on some nodes and not on others</source>
        <translation>仅显示存在于部分节点而非全部节点的摘要</translation>
    </message>
    <message>
        <source>Image Drift</source>
        <translation>镜像差异</translation>
    </message>
    <message>
        <source>Image names present on some nodes and not on others, or on different digests on different nodes</source>
        <translation>仅存在于部分节点、或在不同节点上指向不同摘要的镜像名称</translation>
    </message>
    <message>
        <source>Delete on Nodes…</source>
        <translation>在节点上删除…</translation>
    </message>
    <message>
        <source>Delete the selected digests on the selected nodes (all nodes when none is selected), after one confirmation</source>
        <translation>确认一次后，在所选节点（未选择时为全部节点）上删除所选摘要</translation>
    </message>
    <message>
        <source>Abort Stalled…</source>
        <translation>中止停滞写入…</translation>
    </message>
    <message>
        <source>Abort the ingests idle for 15 minutes or more on the selected nodes, after one confirmation</source>
        <translation>确认一次后，在所选节点上中止空闲 15 分钟及以上的写入</translation>
    </message>
    <message>
        <source>Import on Nodes…</source>
        <translation>在节点上导入…</translation>
    </message>
    <message>
        <source>Import a file on the selected nodes, after one confirmation</source>
        <translation>确认一次后，在所选节点上导入一个文件</translation>
    </message>
    <message>
        <source>Remove Lease…</source>
        <translation>移除租约…</translation>
    </message>
    <message>
        <source>Remove a lease by id on the selected nodes, after one confirmation</source>
        <translation>确认一次后，按 ID 在所选节点上移除租约</translation>
    </message>
    <message>
        <source>Select the blobs no image or gc.root label reaches (reclaimable)</source>
        <translation>选择没有任何镜像或 gc.root 标签可达的 Blob（可回收）</translation>
    </message>
    <message>
        <source>List the files inside the selected layer and preview their text</source>
        <translation>列出所选层中的文件并预览其文本</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;About Blobscope</source>
        <translation>关于 Blobscope(&amp;A)</translation>
    </message>
    <message>
        <source>Open another content store directory</source>
        <translation>打开另一个内容存储目录</translation>
    </message>
    <message>
        <source>Add files to the store as new content</source>
        <translation>将文件作为新内容添加到存储中</translation>
    </message>
    <message>
        <source>Save the selected blob's bytes to a file</source>
        <translation>将所选 Blob 的内容保存到文件</translation>
    </message>
    <message>
        <source>Delete the selected blobs from the store</source>
        <translation>从存储中删除所选 Blob</translation>
    </message>
    <message>
        <source>Abort the selected ingests and remove their data</source>
        <translation>中止所选写入并删除其数据</translation>
    </message>
    <message>
        <source>Edit the labels of the selected blob</source>
        <translation>编辑所选 Blob 的标签</translation>
    </message>
    <message>
        <source>Re-hash the selected blobs (all blobs when none is selected)</source>
        <translation>重新计算所选 Blob 的哈希（未选择时校验全部）</translation>
    </message>
    <message>
        <source>Read the store again</source>
        <translation>重新读取存储</translation>
    </message>
    <message>
        <source>Copy the selected digests to the clipboard</source>
        <translation>将所选摘要复制到剪贴板</translation>
    </message>
    <message>
        <source>Jump to the filter box</source>
        <translation>跳转到筛选框</translation>
    </message>
    <message>
        <source>Image &amp;Layers…</source>
        <translation>镜像层(&amp;L)…</translation>
    </message>
    <message>
        <source>Show the selected image's layers: each one's changes, the squashed files, wasted space and efficiency</source>
        <translation>显示所选镜像的各层：每层的变更、合并后的文件、浪费的空间和效率</translation>
    </message>
    <message>
        <source>Close Blobscope</source>
        <translation>关闭 Blobscope</translation>
    </message>
    <message>
        <source>Version and license</source>
        <translation>版本与许可证</translation>
    </message>
</context>
<context>
    <name>AnalyseDisk</name>
    <message>
        <source>This store has no directory whose disk use Blobscope can measure.</source>
        <translation>此存储没有可供 Blobscope 测量磁盘占用的目录。</translation>
    </message>
</context>
<context>
    <name>BlobTableModel</name>
    <message>
        <source>Digest</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <source>Updated</source>
        <translation>更新时间</translation>
    </message>
    <message>
        <source>Media type</source>
        <translation>媒体类型</translation>
    </message>
    <message>
        <source>Labels</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>{digest}
Verification failed: the content does not match its digest.</source>
        <translation>{digest}
校验失败：内容与其摘要不符。</translation>
    </message>
</context>
<context>
    <name>ChangeTreeModel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>变更</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>added</source>
        <translation>新增</translation>
    </message>
    <message>
        <source>modified</source>
        <translation>修改</translation>
    </message>
    <message>
        <source>deleted</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>Commands</name>
    <message>
        <source>The store is read-only: {reason}</source>
        <translation>存储为只读：{reason}</translation>
    </message>
</context>
<context>
    <name>CompareDialog</name>
    <message>
        <source>Compare Sources</source>
        <translation>比较来源</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Compare with:</source>
        <translation>比较对象：</translation>
    </message>
    <message>
        <source>Digest</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Labels</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>There is no other source to compare with: add one with Sources…</source>
        <translation>没有可比较的其他来源：请通过“来源…”添加一个</translation>
    </message>
    <message>
        <source>Listing both sources…</source>
        <translation>正在列出两个来源…</translation>
    </message>
    <message>
        <source>The comparison failed: {why}</source>
        <translation>比较失败：{why}</translation>
    </message>
    <message>
        <source>Only in this source ({n}, {size})</source>
        <translation>仅在此来源中（{n} 个，{size}）</translation>
    </message>
    <message>
        <source>Only in {other} ({n}, {size})</source>
        <translation>仅在 {other} 中（{n} 个，{size}）</translation>
    </message>
    <message>
        <source>{here} and {there}: {both} blobs in both, {a} only here, {b} only there.</source>
        <translation>{here} 与 {there}：{both} 个 Blob 两边都有，{a} 个仅在此处，{b} 个仅在对方。</translation>
    </message>
</context>
<context>
    <name>CopyDigests</name>
    <message>
        <source>Copied {n} digest(s).</source>
        <translation>已复制 {n} 个摘要。</translation>
    </message>
</context>
<context>
    <name>CopyWhyChain</name>
    <message>
        <source>The selected item has no chain to copy.</source>
        <translation>所选项目没有可复制的原因链。</translation>
    </message>
    <message>
        <source>Copied the chain of {n} link(s).</source>
        <translation>已复制包含 {n} 环的原因链。</translation>
    </message>
</context>
<context>
    <name>DeleteBlobs</name>
    <message>
        <source>Delete {n} blob(s), {size} in total?</source>
        <translation>删除 {n} 个 Blob，共 {size}？</translation>
    </message>
    <message>
        <source>This cannot be undone.</source>
        <translation>此操作无法撤销。</translation>
    </message>
    <message>
        <source>{n} of them are garbage-collection roots (containerd.io/gc.root): {list}</source>
        <translation>其中 {n} 个是垃圾回收根（containerd.io/gc.root）：{list}</translation>
    </message>
    <message>
        <source>{n} of them are referenced by other blobs' containerd.io/gc.ref.content labels, which will then point at missing content: {list}</source>
        <translation>其中 {n} 个被其他 Blob 的 containerd.io/gc.ref.content 标签引用，删除后这些标签将指向不存在的内容：{list}</translation>
    </message>
    <message>
        <source>Delete blobs</source>
        <translation>删除 Blob</translation>
    </message>
    <message>
        <source>The selection changed while the delete was being prepared; nothing was deleted.</source>
        <translation>准备删除期间所选内容已更改；未删除任何内容。</translation>
    </message>
    <message>
        <source>Preparing the delete failed.</source>
        <translation>准备删除失败。</translation>
    </message>
    <message>
        <source>Preparing to delete {n} blob(s)…</source>
        <translation>正在准备删除 {n} 个 Blob…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Delete cancelled; nothing was deleted.</source>
        <translation>已取消删除；未删除任何内容。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Deleted {n} blob(s).</source>
        <translation>已删除 {n} 个 Blob。</translation>
    </message>
    <message>
        <source>{n} of {total} blob(s) could not be deleted.</source>
        <translation>{total} 个 Blob 中有 {n} 个无法删除。</translation>
    </message>
    <message>
        <source>Deleting failed.</source>
        <translation>删除失败。</translation>
    </message>
</context>
<context>
    <name>DeleteOrphanDir</name>
    <message>
        <source>A running daemon's snapshot directories are never deleted behind its back; open its root once it is stopped.</source>
        <translation>绝不会绕过运行中的守护进程删除其快照目录；请在其停止后打开其根目录。</translation>
    </message>
    <message>
        <source>Only an offline containerd root has snapshot directories to delete.</source>
        <translation>只有离线的 containerd 根目录才有可删除的快照目录。</translation>
    </message>
    <message>
        <source>Nothing is deleted from this root: {reason}; stop it first.</source>
        <translation>不会从此根目录删除任何内容：{reason}；请先停止它。</translation>
    </message>
    <message>
        <source>Select an orphaned snapshot directory (one its snapshotter has no record of).</source>
        <translation>请选择一个孤立的快照目录（其快照器没有它的记录）。</translation>
    </message>
    <message>
        <source>Delete the orphaned snapshot directory {path} ({size})? No {sn} record names it; this cannot be undone.</source>
        <translation>删除孤立的快照目录 {path}（{size}）？没有任何 {sn} 记录指向它；此操作无法撤销。</translation>
    </message>
    <message>
        <source>Delete orphaned snapshot directory</source>
        <translation>删除孤立快照目录</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>未做任何更改。</translation>
    </message>
    <message>
        <source>Deleted {path}: {size} freed.</source>
        <translation>已删除 {path}：释放了 {size}。</translation>
    </message>
    <message>
        <source>Deleting {path} failed.</source>
        <translation>删除 {path} 失败。</translation>
    </message>
    <message>
        <source>The directory cannot be deleted.</source>
        <translation>无法删除该目录。</translation>
    </message>
</context>
<context>
    <name>DetailsPane</name>
    <message>
        <source>Digest:</source>
        <translation>摘要：</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>大小：</translation>
    </message>
    <message>
        <source>Created:</source>
        <translation>创建时间：</translation>
    </message>
    <message>
        <source>Updated:</source>
        <translation>更新时间：</translation>
    </message>
    <message>
        <source>Media type:</source>
        <translation>媒体类型：</translation>
    </message>
    <message>
        <source>Labels:</source>
        <translation>标签：</translation>
    </message>
    <message>
        <source>Namespaces:</source>
        <translation>所在命名空间：</translation>
    </message>
    <message>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <source>No blob selected</source>
        <translation>未选择 Blob</translation>
    </message>
    <message>
        <source>Blob {short}</source>
        <translation>Blob {short}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>looking up…</source>
        <translation>正在查找…</translation>
    </message>
    <message>
        <source>Blob {short} — content does not match its digest!</source>
        <translation>Blob {short} — 内容与摘要不符！</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>Could not look up the namespaces: {error}</source>
        <translation>无法查找命名空间：{error}</translation>
    </message>
</context>
<context>
    <name>DigestTableModel</name>
    <message>
        <source>Digest</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>节点数</translation>
    </message>
    <message>
        <source>Present on</source>
        <translation>存在于</translation>
    </message>
    <message>
        <source>Absent on</source>
        <translation>缺失于</translation>
    </message>
</context>
<context>
    <name>DiskAction</name>
    <message>
        <source>Only through a running daemon: open its address (unix:// or ssh://) to do this.</source>
        <translation>只能通过运行中的守护进程进行：请打开其地址（unix:// 或 ssh://）。</translation>
    </message>
</context>
<context>
    <name>DiskAnalysis</name>
    <message>
        <source>Reading meta.db…</source>
        <extracomment>for an offline root: why nothing may be deleted from it now (a running daemon owns it), or ""</extracomment>
        <translation>正在读取 meta.db…</translation>
    </message>
    <message>
        <source>Predicting the garbage collector…</source>
        <translation>正在预测垃圾回收…</translation>
    </message>
    <message>
        <source>Measuring content and ingests…</source>
        <translation>正在测量内容和写入…</translation>
    </message>
    <message>
        <source>Measuring snapshots (du)… content is shown already</source>
        <translation>正在测量快照（du）…内容已显示</translation>
    </message>
    <message>
        <source>Open a containerd root to see where its disk space went.</source>
        <translation>打开一个 containerd 根目录，查看其磁盘空间的去向。</translation>
    </message>
    <message>
        <source>Analyse Disk (F6) measures {path}.</source>
        <translation>“分析磁盘”（F6）将测量 {path}。</translation>
    </message>
    <message>
        <source>Reading the daemon's records and snapshot usage…</source>
        <translation>正在读取守护进程的记录和快照用量…</translation>
    </message>
    <message>
        <source>Reading the images' manifests and configs…</source>
        <translation>正在读取镜像的清单和配置…</translation>
    </message>
    <message>
        <source>a running containerd (process {pid}, {address}) owns this root</source>
        <translation>运行中的 containerd（进程 {pid}，{address}）占用此根目录</translation>
    </message>
    <message>
        <source>This source has no directory and no daemon address whose disk use Blobscope can read.</source>
        <translation>此来源既没有目录，也没有 Blobscope 可读取其磁盘用量的守护进程地址。</translation>
    </message>
    <message>
        <source>Analyse Disk (F6) reads the records of containerd at {address} through its services.</source>
        <translation>分析磁盘（F6）通过服务读取位于 {address} 的 containerd 的记录。</translation>
    </message>
    <message>
        <source>live: the picture can move. Read through the daemon service by service while it runs; a pull, a delete or a garbage collection meanwhile can change it. Leases and gc.root labels can be removed and a collection asked for from the item's menu.</source>
        <translation>实时：画面可能变化。在守护进程运行时逐个服务读取；期间的拉取、删除或垃圾回收都可能改变它。可以从项目菜单中移除租约和 gc.root 标签，或请求执行回收。</translation>
    </message>
    <message>
        <source>An offline containerd root: only an orphaned snapshot directory can be deleted here, and only while no daemon runs on the root. Leases and gc.root labels are removed through a running daemon.</source>
        <translation>离线的 containerd 根目录：此处只能删除孤立的快照目录，且仅当没有守护进程在此根目录上运行时。租约和 gc.root 标签需通过运行中的守护进程移除。</translation>
    </message>
    <message>
        <source>A plain Blobscope store has no containerd metadata: only its content and ingests are shown, without owners.</source>
        <translation>普通的 Blobscope 存储没有 containerd 元数据：只显示其内容和写入，不显示所有者。</translation>
    </message>
    <message>
        <source>Analysing {path}…</source>
        <translation>正在分析 {path}…</translation>
    </message>
    <message>
        <source>The analysis was stopped.</source>
        <translation>分析已停止。</translation>
    </message>
    <message>
        <source>The disk could not be analysed: {error}</source>
        <translation>无法分析磁盘：{error}</translation>
    </message>
    <message>
        <source>{size} in {n} items.</source>
        <translation>{n} 个项目，共 {size}。</translation>
    </message>
    <message>
        <source>The next garbage collection would free {size}.</source>
        <translation>下一次垃圾回收将释放 {size}。</translation>
    </message>
    <message>
        <source>{n} problem(s): {first}</source>
        <translation>{n} 个问题：{first}</translation>
    </message>
    <message>
        <source>live:</source>
        <translation>实时：</translation>
    </message>
</context>
<context>
    <name>DiskDetails</name>
    <message>
        <source>Why is this alive</source>
        <translation>为何仍被保留</translation>
    </message>
    <message>
        <source>Digest</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Recorded in namespaces</source>
        <translation>记录所在的命名空间</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>路径</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>种类</translation>
    </message>
    <message>
        <source>Parent</source>
        <translation>父快照</translation>
    </message>
    <message>
        <source>With its parents</source>
        <translation>连同其父快照</translation>
    </message>
    <message>
        <source>Containers</source>
        <translation>容器</translation>
    </message>
    <message>
        <source>Leases</source>
        <translation>租约</translation>
    </message>
    <message>
        <source>Layer blob</source>
        <translation>层 Blob</translation>
    </message>
    <message>
        <source>Diff ID</source>
        <translation>Diff ID</translation>
    </message>
    <message>
        <source>Flags</source>
        <translation>标记</translation>
    </message>
    <message>
        <source>Ref</source>
        <translation>引用</translation>
    </message>
    <message>
        <source>Expected digest</source>
        <translation>预期摘要</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>Media type</source>
        <translation>媒体类型</translation>
    </message>
    <message>
        <source>Image</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Snapshot</source>
        <translation>快照</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>过期时间</translation>
    </message>
    <message>
        <source>Resources held</source>
        <translation>持有的资源</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>no namespace records it</source>
        <translation>没有命名空间记录它</translation>
    </message>
    <message>
        <source>Blobscope cannot read this snapshotter's records; its whole directory is counted</source>
        <translation>Blobscope 无法读取此快照器的记录；统计的是其整个目录</translation>
    </message>
    <message>
        <source>Nothing selected</source>
        <translation>未选择任何项目</translation>
    </message>
    <message>
        <source>Click a rectangle or a row to see what it is and what keeps it.</source>
        <translation>点击一个矩形或一行，查看它是什么以及是什么保留了它。</translation>
    </message>
    <message>
        <source>Size: {size} ({exact})</source>
        <translation>大小：{size}（{exact}）</translation>
    </message>
    <message>
        <source>Items: {n}</source>
        <translation>项目数：{n}</translation>
    </message>
    <message>
        <source>State: {state} — {meaning}</source>
        <translation>状态：{state} — {meaning}</translation>
    </message>
    <message>
        <source>and {n} more</source>
        <translation>以及另外 {n} 个</translation>
    </message>
    <message>
        <source>Why is this alive (from a root, click a link to select it):</source>
        <translation>为何仍被保留（从根开始，点击一环即可选中它）：</translation>
    </message>
    <message>
        <source>Nothing keeps it: containerd's next garbage collection removes it.</source>
        <translation>没有任何东西保留它：containerd 的下一次垃圾回收会删除它。</translation>
    </message>
    <message>
        <source>containerd's garbage collector does not decide about this.</source>
        <translation>containerd 的垃圾回收不决定此项。</translation>
    </message>
    <message>
        <source>Kept by {n} roots; every one must go before it can be collected:</source>
        <translation>被 {n} 个根保留；必须全部移除后它才能被回收：</translation>
    </message>
    <message>
        <source>Select this item</source>
        <translation>选中此项目</translation>
    </message>
</context>
<context>
    <name>DiskNames</name>
    <message>
        <source>Content</source>
        <translation>内容</translation>
    </message>
    <message>
        <source>Ingests</source>
        <translation>写入</translation>
    </message>
    <message>
        <source>Metadata</source>
        <translation>元数据</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Containers</source>
        <translation>容器</translation>
    </message>
    <message>
        <source>Leases</source>
        <translation>租约</translation>
    </message>
    <message>
        <source>Snapshots ({snapshotter})</source>
        <translation>快照（{snapshotter}）</translation>
    </message>
    <message>
        <source>(no namespace)</source>
        <translation>（无命名空间）</translation>
    </message>
</context>
<context>
    <name>DiskStates</name>
    <message>
        <source>in use by a container</source>
        <translation>被容器使用</translation>
    </message>
    <message>
        <source>a container's snapshot, or a parent of one</source>
        <translation>容器的快照，或其父快照</translation>
    </message>
    <message>
        <source>image only</source>
        <translation>仅属于镜像</translation>
    </message>
    <message>
        <source>part of an image; no container uses it</source>
        <translation>属于某个镜像；没有容器使用它</translation>
    </message>
    <message>
        <source>held only by a lease</source>
        <translation>仅被租约持有</translation>
    </message>
    <message>
        <source>no image or container keeps it; a lease does</source>
        <translation>没有镜像或容器保留它；由租约保留</translation>
    </message>
    <message>
        <source>collectable</source>
        <translation>可回收</translation>
    </message>
    <message>
        <source>containerd's next garbage collection removes it</source>
        <translation>containerd 的下一次垃圾回收会删除它</translation>
    </message>
    <message>
        <source>orphan</source>
        <translation>孤立</translation>
    </message>
    <message>
        <source>a directory without a record, or a record without its directory</source>
        <translation>没有记录的目录，或没有目录的记录</translation>
    </message>
    <message>
        <source>not understood</source>
        <translation>无法识别</translation>
    </message>
    <message>
        <source>a snapshotter Blobscope cannot read</source>
        <translation>Blobscope 无法读取的快照器</translation>
    </message>
    <message>
        <source>kept for another reason</source>
        <translation>因其他原因保留</translation>
    </message>
    <message>
        <source>a gc.root label, another record's label, an unexpired ingest</source>
        <translation>gc.root 标签、其他记录的标签或未过期的写入</translation>
    </message>
    <message>
        <source>metadata</source>
        <translation>元数据</translation>
    </message>
    <message>
        <source>containerd's and the snapshotters' databases</source>
        <translation>containerd 和各快照器的数据库</translation>
    </message>
    <message>
        <source>in the store</source>
        <translation>在存储中</translation>
    </message>
    <message>
        <source>a plain store: no containerd metadata says who keeps it</source>
        <translation>普通存储：没有 containerd 元数据说明由谁保留</translation>
    </message>
</context>
<context>
    <name>DiskTab</name>
    <message>
        <source>Open a containerd root to see where its disk space went.</source>
        <translation>打开一个 containerd 根目录，查看其磁盘空间的去向。</translation>
    </message>
</context>
<context>
    <name>DiskTreeModel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Items</source>
        <translation>项目数</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
</context>
<context>
    <name>DiskTreemap</name>
    <message>
        <source>{n} more</source>
        <translation>另有 {n} 项</translation>
    </message>
</context>
<context>
    <name>EditLabels</name>
    <message>
        <source>Labels of {short}</source>
        <translation>{short} 的标签</translation>
    </message>
    <message>
        <source>Labels of {digest}. An empty table removes every label.</source>
        <translation>{digest} 的标签。表格为空时将删除所有标签。</translation>
    </message>
    <message>
        <source>Labels of {short} saved.</source>
        <translation>已保存 {short} 的标签。</translation>
    </message>
    <message>
        <source>The labels of {digest} were not changed.</source>
        <translation>{digest} 的标签未被修改。</translation>
    </message>
</context>
<context>
    <name>ExportBlob</name>
    <message>
        <source>Export blob {short}</source>
        <translation>导出 Blob {short}</translation>
    </message>
    <message>
        <source>Exported {size} to {path}.</source>
        <translation>已将 {size} 导出到 {path}。</translation>
    </message>
    <message>
        <source>Exporting {digest} to {path} failed.</source>
        <translation>将 {digest} 导出到 {path} 失败。</translation>
    </message>
</context>
<context>
    <name>Filter</name>
    <message>
        <source>This filter cannot be used: {reason}</source>
        <translation>无法使用此筛选条件：{reason}</translation>
    </message>
    <message>
        <source>This filter cannot be used: {selector} is not a valid regular expression.</source>
        <translation>无法使用此筛选条件：{selector} 不是有效的正则表达式。</translation>
    </message>
    <message>
        <source>This filter cannot be used: {selector} could take exponential time to match ({reason}); write it without the nested repetition.</source>
        <translation>无法使用此筛选条件：{selector} 的匹配可能耗费指数级时间（{reason}）；请改写以去掉嵌套的重复。</translation>
    </message>
</context>
<context>
    <name>FleetTab</name>
    <message>
        <source>The containerd namespace asked on every node (Refresh applies a change)</source>
        <translation>在每个节点上查询的 containerd 命名空间（更改后点“刷新”生效）</translation>
    </message>
    <message>
        <source>All digests</source>
        <translation>全部摘要</translation>
    </message>
    <message>
        <source>Shared by every node</source>
        <translation>所有节点共有</translation>
    </message>
    <message>
        <source>Unique to one node</source>
        <translation>仅存在于一个节点</translation>
    </message>
    <message>
        <source>Filter digests…</source>
        <translation>筛选摘要…</translation>
    </message>
    <message>
        <source>Namespace:</source>
        <translation>命名空间：</translation>
    </message>
    <message>
        <source>Open a fleet file with Sources…</source>
        <translation>通过“来源…”打开一个集群文件</translation>
    </message>
    <message>
        <source>Double-click a node to browse its store in the Blobs tab</source>
        <translation>双击节点，在 Blob 标签页中浏览其存储</translation>
    </message>
    <message>
        <source>Select a digest to see which nodes hold it.</source>
        <translation>选择一个摘要，查看哪些节点持有它。</translation>
    </message>
    <message>
        <source>Filter image names…</source>
        <translation>筛选镜像名称…</translation>
    </message>
    <message>
        <source>Reading {path}…</source>
        <translation>正在读取 {path}…</translation>
    </message>
    <message>
        <source>Cannot use the fleet file: {why}</source>
        <translation>无法使用该集群文件：{why}</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Fleet</source>
        <translation>集群</translation>
    </message>
    <message>
        <source>Planning {action} on {n} nodes…</source>
        <translation>正在 {n} 个节点上规划：{action}…</translation>
    </message>
    <message>
        <source>Planning the action failed (see the log); nothing was changed</source>
        <translation>规划操作失败（见日志）；未做任何更改</translation>
    </message>
    <message>
        <source>not changed: {why}</source>
        <translation>未更改：{why}</translation>
    </message>
    <message>
        <source>nothing to do</source>
        <translation>无需操作</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Nothing to do</source>
        <translation>无需操作</translation>
    </message>
    <message>
        <source>Act on the fleet</source>
        <translation>对节点群执行操作</translation>
    </message>
    <message>
        <source>Change {n} nodes</source>
        <translation>更改 {n} 个节点</translation>
    </message>
    <message>
        <source>not confirmed</source>
        <translation>未确认</translation>
    </message>
    <message>
        <source>nothing was changed</source>
        <translation>未做任何更改</translation>
    </message>
    <message>
        <source>The action failed (see the log)</source>
        <translation>操作失败（见日志）</translation>
    </message>
    <message>
        <source>{done} of {n} nodes answered, {failed} failed; {digests} digests, {drift} not on every answering node</source>
        <translation>{n} 个节点中 {done} 个已应答，{failed} 个失败；共 {digests} 个摘要，其中 {drift} 个并非所有应答节点都有</translation>
    </message>
    <message>
        <source>Querying… {summary}</source>
        <translation>正在查询… {summary}</translation>
    </message>
    <message>
        <source>{n} image names are on some nodes and not on others, or on different digests.</source>
        <translation>{n} 个镜像名称仅存在于部分节点，或指向不同的摘要。</translation>
    </message>
    <message>
        <source>Present on {n}:</source>
        <translation>存在于 {n} 个节点：</translation>
    </message>
    <message>
        <source>Absent on {n}:</source>
        <translation>缺失于 {n} 个节点：</translation>
    </message>
    <message>
        <source>The name points at {n} different digests.</source>
        <translation>该名称指向 {n} 个不同的摘要。</translation>
    </message>
    <message>
        <source>Not known (the node did not answer) {n}:</source>
        <translation>未知（节点未应答）{n} 个：</translation>
    </message>
</context>
<context>
    <name>ImageDriftModel</name>
    <message>
        <source>Image</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>节点数</translation>
    </message>
    <message>
        <source>Present on</source>
        <translation>存在于</translation>
    </message>
    <message>
        <source>Absent on</source>
        <translation>缺失于</translation>
    </message>
    <message>
        <source>Target digests</source>
        <translation>目标摘要</translation>
    </message>
    <message>
        <source>same: {digest}</source>
        <translation>相同：{digest}</translation>
    </message>
</context>
<context>
    <name>ImageGraph</name>
    <message>
        <source>Images</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Working out the image graph…</source>
        <translation>正在分析镜像引用图…</translation>
    </message>
    <message>
        <source>Building the image graph…</source>
        <translation>正在构建镜像引用图…</translation>
    </message>
    <message>
        <source>The image graph could not be built: {error}</source>
        <translation>无法构建镜像引用图：{error}</translation>
    </message>
    <message>
        <source>{n} unreferenced ({size})</source>
        <translation>{n} 个未引用（{size}）</translation>
    </message>
    <message>
        <source>Blobs no image or gc.root label reaches: containerd's garbage collector would remove them. Edit ▸ Select Unreferenced selects them.</source>
        <translation>没有任何镜像或 gc.root 标签可达的 Blob：containerd 的垃圾回收会删除它们。可用“编辑 ▸ 选择未引用的 Blob”选中它们。</translation>
    </message>
    <message>
        <source>Images ({n})</source>
        <translation>镜像（{n}）</translation>
    </message>
</context>
<context>
    <name>ImageLayersDialog</name>
    <message>
        <source>Layers of {image}</source>
        <translation>{image} 的各层</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Changes</source>
        <translation>变更</translation>
    </message>
    <message>
        <source>Show the whole image (squashed)</source>
        <translation>显示整个镜像（合并后）</translation>
    </message>
    <message>
        <source>Reading the layers…</source>
        <translation>正在读取各层…</translation>
    </message>
    <message>
        <source>Stopped; nothing is shown.</source>
        <translation>已停止；不显示任何内容。</translation>
    </message>
    <message>
        <source>Could not read the layers of {digest}: {error}</source>
        <translation>无法读取 {digest} 的各层：{error}</translation>
    </message>
    <message>
        <source>Files in all layers {total} · squashed image {squashed} · wasted {wasted} · efficiency {efficiency}</source>
        <translation>所有层中的文件 {total} · 合并后的镜像 {squashed} · 浪费 {wasted} · 效率 {efficiency}</translation>
    </message>
    <message>
        <source>By dive's own formula: efficiency {efficiency}, wasted {wasted}</source>
        <translation>按 dive 自己的算法：效率 {efficiency}，浪费 {wasted}</translation>
    </message>
    <message>
        <source>{n} problems; the first: {first}</source>
        <translation>{n} 个问题；第一个：{first}</translation>
    </message>
    <message>
        <source>{added} added ({ab}), {modified} modified ({mb}), {deleted} deleted ({db})</source>
        <translation>新增 {added} 个（{ab}），修改 {modified} 个（{mb}），删除 {deleted} 个（{db}）</translation>
    </message>
    <message>
        <source>The squashed image: every path, with the layer it comes from</source>
        <translation>合并后的镜像：每个路径及其来源层</translation>
    </message>
    <message>
        <source>Layer {i}: its changes against the layers below</source>
        <translation>第 {i} 层：相对于下面各层的变更</translation>
    </message>
</context>
<context>
    <name>ImagesPanel</name>
    <message>
        <source>No image graph yet.</source>
        <translation>尚无镜像引用图。</translation>
    </message>
    <message>
        <source>{n} image(s); {shared} shared between images; {count} unreferenced blob(s), {reclaimable} reclaimable.</source>
        <translation>{n} 个镜像；镜像间共享 {shared}；{count} 个未引用的 Blob，可回收 {reclaimable}。</translation>
    </message>
</context>
<context>
    <name>ImagesTreeModel</name>
    <message>
        <source>Image / blob</source>
        <translation>镜像 / Blob</translation>
    </message>
    <message>
        <source>Digest</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Media type</source>
        <translation>媒体类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>总计</translation>
    </message>
    <message>
        <source>Shared</source>
        <translation>共享</translation>
    </message>
    <message>
        <source>Unique</source>
        <translation>独占</translation>
    </message>
    <message>
        <source>(cycle: shown above)</source>
        <translation>（循环引用：见上方）</translation>
    </message>
    <message>
        <source>missing</source>
        <translation>缺失</translation>
    </message>
    <message>
        <source>Referenced, but not in the store.</source>
        <translation>被引用，但不在存储中。</translation>
    </message>
    <message>
        <source>{n} blobs: {total} in total, {shared} shared with other images, {unique} only in this one</source>
        <translation>{n} 个 Blob：共 {total}，与其他镜像共享 {shared}，仅本镜像使用 {unique}</translation>
    </message>
    <message>
        <source>{n} referenced blob(s) missing from the store</source>
        <translation>{n} 个被引用的 Blob 不在存储中</translation>
    </message>
</context>
<context>
    <name>ImportFiles</name>
    <message>
        <source>Import files into the store</source>
        <translation>将文件导入存储</translation>
    </message>
    <message>
        <source>Labels for the imported content</source>
        <translation>导入内容的标签</translation>
    </message>
    <message>
        <source>Labels to put on {n} imported file(s); leave empty for none.</source>
        <translation>为导入的 {n} 个文件添加的标签；留空表示不添加。</translation>
    </message>
    <message>
        <source>Imported {n} file(s).</source>
        <translation>已导入 {n} 个文件。</translation>
    </message>
    <message>
        <source>Import cancelled; importing the same file again resumes it.</source>
        <translation>导入已取消；再次导入同一文件即可继续。</translation>
    </message>
    <message>
        <source>Importing {path} failed.</source>
        <translation>导入 {path} 失败。</translation>
    </message>
</context>
<context>
    <name>ImportOnNodes</name>
    <message>
        <source>Import a file on the selected nodes</source>
        <translation>在所选节点上导入文件</translation>
    </message>
    <message>
        <source>Choose one file: a fleet import takes one file at a time</source>
        <translation>请选择一个文件：节点群导入一次只接受一个文件</translation>
    </message>
    <message>
        <source>Labels of the imported blob</source>
        <translation>导入 Blob 的标签</translation>
    </message>
    <message>
        <source>Labels to give the blob on every selected node (containerd.io/gc.root is added anyway); none is fine.</source>
        <translation>在每个所选节点上为该 Blob 设置的标签（无论如何都会添加 containerd.io/gc.root）；可以不设。</translation>
    </message>
</context>
<context>
    <name>ImportProgressDialog</name>
    <message>
        <source>Importing</source>
        <translation>正在导入</translation>
    </message>
    <message>
        <source>Cancel keeps what was written as an ingest; importing the same file again resumes it.</source>
        <translation>取消后，已写入的数据会保留为一个写入任务；再次导入同一文件即可继续。</translation>
    </message>
    <message>
        <source>File {i} of {n}: {name}</source>
        <translation>第 {i} 个文件，共 {n} 个：{name}</translation>
    </message>
    <message>
        <source>{done} of {total} — {speed}</source>
        <translation>{done} / {total} — {speed}</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
</context>
<context>
    <name>IngestTableModel</name>
    <message>
        <source>Ref</source>
        <translation>引用</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Last update</source>
        <translation>最后更新</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>damaged</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <source>stalled</source>
        <translation>已停滞</translation>
    </message>
    <message>
        <source>active</source>
        <translation>进行中</translation>
    </message>
    <message>
        <source>{done} of {total} ({pct:.0f}%)</source>
        <translation>{done} / {total}（{pct:.0f}%）</translation>
    </message>
    <message>
        <source>{done} so far</source>
        <translation>已写入 {done}</translation>
    </message>
</context>
<context>
    <name>Kinds</name>
    <message>
        <source>image index</source>
        <translation>镜像索引</translation>
    </message>
    <message>
        <source>manifest</source>
        <translation>清单</translation>
    </message>
    <message>
        <source>image config</source>
        <translation>镜像配置</translation>
    </message>
    <message>
        <source>layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>JSON</source>
        <translation>JSON</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>binary</source>
        <translation>二进制</translation>
    </message>
    <message>
        <source>empty</source>
        <translation>空</translation>
    </message>
</context>
<context>
    <name>LabelEditorDialog</name>
    <message>
        <source>Row {n}: the key is empty.</source>
        <translation>第 {n} 行：键为空。</translation>
    </message>
    <message>
        <source>Row {n}: the key {key} appears twice.</source>
        <translation>第 {n} 行：键 {key} 出现了两次。</translation>
    </message>
    <message>
        <source>Row {n}: the value is empty (remove the row to delete the label).</source>
        <translation>第 {n} 行：值为空（要删除该标签，请删除这一行）。</translation>
    </message>
    <message>
        <source>Row {n}: key and value are {size} bytes; containerd allows at most {max}.</source>
        <translation>第 {n} 行：键和值共 {size} 字节；containerd 最多允许 {max} 字节。</translation>
    </message>
    <message>
        <source>Edit labels</source>
        <translation>编辑标签</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>&amp;Add label</source>
        <translation>添加标签(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>删除(&amp;R)</translation>
    </message>
    <message>
        <source>Mark as GC &amp;root</source>
        <translation>标记为 GC 根(&amp;R)</translation>
    </message>
    <message>
        <source>Add containerd.io/gc.root so containerd's garbage collector keeps this blob</source>
        <translation>添加 containerd.io/gc.root，使 containerd 的垃圾回收保留此 Blob</translation>
    </message>
</context>
<context>
    <name>LayerBrowserDialog</name>
    <message>
        <source>Files in layer {short}</source>
        <translation>层 {short} 中的文件</translation>
    </message>
    <message>
        <source>Layer {digest}</source>
        <translation>层 {digest}</translation>
    </message>
    <message>
        <source>Show as a tree</source>
        <translation>以树形显示</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Select a file to see its text.</source>
        <translation>选择一个文件以查看其文本。</translation>
    </message>
    <message>
        <source>Reading the layer…</source>
        <translation>正在读取层…</translation>
    </message>
    <message>
        <source>Reading the layer… {n} entries so far</source>
        <translation>正在读取层…已读取 {n} 个条目</translation>
    </message>
    <message>
        <source>{n} entries, {size} in files.</source>
        <translation>{n} 个条目，文件共 {size}。</translation>
    </message>
    <message>
        <source>Stopped after {n} entries; the list is incomplete.</source>
        <translation>读取 {n} 个条目后已停止；列表不完整。</translation>
    </message>
    <message>
        <source>Could not list the files of layer {digest}: {error}</source>
        <translation>无法列出层 {digest} 中的文件：{error}</translation>
    </message>
    <message>
        <source>/{path} is a {type}; only files have a preview.</source>
        <translation>/{path} 是 {type}；只有文件可以预览。</translation>
    </message>
    <message>
        <source>Reading /{path}…</source>
        <translation>正在读取 /{path}…</translation>
    </message>
    <message>
        <source>(empty file)</source>
        <translation>（空文件）</translation>
    </message>
    <message>
        <source>/{path} is binary ({size}); only text is previewed.</source>
        <translation>/{path} 是二进制文件（{size}）；仅预览文本。</translation>
    </message>
    <message>
        <source>(preview shows the first {shown} of {size})</source>
        <translation>（预览仅显示 {size} 中的前 {shown}）</translation>
    </message>
    <message>
        <source>Could not read /{path}: {error}</source>
        <translation>无法读取 /{path}：{error}</translation>
    </message>
</context>
<context>
    <name>LayerEntries</name>
    <message>
        <source>file</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>directory</source>
        <translation>目录</translation>
    </message>
    <message>
        <source>symlink</source>
        <translation>符号链接</translation>
    </message>
    <message>
        <source>hard link</source>
        <translation>硬链接</translation>
    </message>
    <message>
        <source>char device</source>
        <translation>字符设备</translation>
    </message>
    <message>
        <source>block device</source>
        <translation>块设备</translation>
    </message>
    <message>
        <source>fifo</source>
        <translation>管道</translation>
    </message>
</context>
<context>
    <name>LayerEntriesModel</name>
    <message>
        <source>Path</source>
        <translation>路径</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>权限</translation>
    </message>
    <message>
        <source>Modified</source>
        <translation>修改时间</translation>
    </message>
    <message>
        <source>whiteout</source>
        <translation>删除标记</translation>
    </message>
</context>
<context>
    <name>LogDock</name>
    <message>
        <source>Log</source>
        <translation>日志</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Store</source>
        <translation>存储</translation>
    </message>
    <message>
        <source>READ-ONLY</source>
        <translation>只读</translation>
    </message>
    <message>
        <source>Store:</source>
        <translation>存储：</translation>
    </message>
    <message>
        <source>containerd namespace</source>
        <translation>containerd 命名空间</translation>
    </message>
    <message>
        <source>Namespace:</source>
        <translation>命名空间：</translation>
    </message>
    <message>
        <source>Filter: text in digest or labels, or containerd syntax such as labels."containerd.io/gc.root" or digest~=^sha256:ab</source>
        <translation>筛选：摘要或标签中的文字，或 containerd 语法，例如 labels."containerd.io/gc.root" 或 digest~=^sha256:ab</translation>
    </message>
    <message>
        <source>Ingests (writes in progress or interrupted)</source>
        <translation>写入任务（进行中或已中断）</translation>
    </message>
    <message>
        <source>Blobs</source>
        <translation>Blob</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>read-only</source>
        <translation>只读</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Disk</source>
        <translation>磁盘</translation>
    </message>
    <message>
        <source>{root} — Blobscope</source>
        <translation>{root} — Blobscope</translation>
    </message>
    <message>
        <source>Could not open namespace {ns}.</source>
        <translation>无法打开命名空间 {ns}。</translation>
    </message>
    <message>
        <source>Scanning…</source>
        <translation>正在扫描…</translation>
    </message>
    <message>
        <source>The store directory {root} no longer exists. Recreate it and press F5, or open another store.</source>
        <translation>存储目录 {root} 已不存在。请重新创建后按 F5，或打开其他存储。</translation>
    </message>
    <message>
        <source>Reading the store failed.</source>
        <translation>读取存储失败。</translation>
    </message>
    <message>
        <source>Press F5 to try again.</source>
        <translation>按 F5 重试。</translation>
    </message>
    <message>
        <source>{n} blobs selected</source>
        <translation>已选择 {n} 个 Blob</translation>
    </message>
    <message>
        <source>(preview shows the beginning only)</source>
        <translation>（预览只显示开头部分）</translation>
    </message>
    <message>
        <source>(empty blob)</source>
        <translation>（空 Blob）</translation>
    </message>
    <message>
        <source>Could not read this blob: {error}</source>
        <translation>无法读取此 Blob：{error}</translation>
    </message>
    <message>
        <source>Filtering and sorting {n} blobs… the table shows the previous result until then.</source>
        <translation>正在筛选并排序 {n} 个 Blob…在此之前表格显示上一次的结果。</translation>
    </message>
    <message>
        <source>{n} blobs, {size}</source>
        <translation>{n} 个 Blob，{size}</translation>
    </message>
    <message>
        <source> — {shown} shown</source>
        <translation> — 显示 {shown} 个</translation>
    </message>
    <message>
        <source> · {n} ingests</source>
        <translation> · {n} 个写入任务</translation>
    </message>
</context>
<context>
    <name>NodeTable</name>
    <message>
        <source>Node</source>
        <translation>节点</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Blobs</source>
        <translation>Blob</translation>
    </message>
    <message>
        <source>Bytes</source>
        <translation>字节数</translation>
    </message>
    <message>
        <source>Ingests</source>
        <translation>写入</translation>
    </message>
    <message>
        <source>Snapshots</source>
        <translation>快照</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Only here</source>
        <translation>仅此节点</translation>
    </message>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>连接中</translation>
    </message>
    <message>
        <source>listing</source>
        <translation>列举中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Reclaimable</source>
        <translation>可回收</translation>
    </message>
    <message>
        <source>Last action</source>
        <translation>上次操作</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>planning…</source>
        <translation>规划中…</translation>
    </message>
    <message>
        <source>planned</source>
        <translation>已规划</translation>
    </message>
    <message>
        <source>executing…</source>
        <translation>执行中…</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>listed: new</source>
        <translation>已列出：新节点</translation>
    </message>
    <message>
        <source>listed: failed last time</source>
        <translation>已列出：上次失败</translation>
    </message>
    <message>
        <source>listed: changed</source>
        <translation>已列出：有变化</translation>
    </message>
    <message>
        <source>listed: event stream was down</source>
        <translation>已列出：事件流曾中断</translation>
    </message>
    <message>
        <source>listed: the daemon sends no events</source>
        <translation>已列出：守护进程不发送事件</translation>
    </message>
    <message>
        <source>listed: not watched</source>
        <translation>已列出：未监视</translation>
    </message>
    <message>
        <source>listed: asked</source>
        <translation>已列出：按要求</translation>
    </message>
    <message>
        <source>listed: refresh all</source>
        <translation>已列出：全部刷新</translation>
    </message>
    <message>
        <source>unchanged: not contacted</source>
        <translation>未变化：未联系节点</translation>
    </message>
    <message>
        <source>blob deleted: applied at the next refresh</source>
        <translation>Blob 已删除：下次刷新时应用</translation>
    </message>
    <message>
        <source>changed ({topic}): listed at the next refresh</source>
        <translation>有变化（{topic}）：下次刷新时列出</translation>
    </message>
    <message>
        <source>event stream down: listed at the next refresh ({why})</source>
        <translation>事件流中断：下次刷新时列出（{why}）</translation>
    </message>
    <message>
        <source>no events from this daemon: listed at every refresh</source>
        <translation>该守护进程不发送事件：每次刷新都列出</translation>
    </message>
    <message>
        <source>unchanged</source>
        <translation>未变化</translation>
    </message>
    <message>
        <source>{n} blobs</source>
        <translation>{n} 个 Blob</translation>
    </message>
    <message>
        <source>{s:.1f} s</source>
        <translation>{s:.1f} 秒</translation>
    </message>
    <message>
        <source>The node's daemon did not tell its snapshots</source>
        <translation>该节点的守护进程未提供其快照信息</translation>
    </message>
    <message>
        <source>{n} snapshots using {size} (ctr snapshots usage)</source>
        <translation>{n} 个快照，占用 {size}（ctr snapshots usage）</translation>
    </message>
    <message>
        <source>{n} ({stalled} stalled)</source>
        <translation>{n}（{stalled} 个停滞）</translation>
    </message>
    <message>
        <source>{size} that the node's next garbage collection would free (every namespace counted), by the dry run of its listing at {when}; leases ending and GC passes send no event: Refresh Selected runs it again</source>
        <translation>该节点下一次垃圾回收将释放的 {size}（计入所有命名空间），来自 {when} 列出时的模拟运行；租约到期和垃圾回收不发送事件：“刷新所选”会重新运行</translation>
    </message>
    <message>
        <source>blobs were deleted (seen in its events)</source>
        <translation>有 Blob 被删除（见于其事件）</translation>
    </message>
    <message>
        <source>{size} (stale)</source>
        <translation>{size}（已过时）</translation>
    </message>
    <message>
        <source>Stale: {size} by the dry run of the listing at {when}; since then: {since}. Refresh Selected lists the node and runs it again</source>
        <translation>已过时：{size} 来自 {when} 列出时的模拟运行；此后：{since}。“刷新所选”会重新列出该节点并重新运行</translation>
    </message>
    <message>
        <source>{n} · {size}</source>
        <translation>{n} · {size}</translation>
    </message>
    <message>
        <source>not asked</source>
        <translation>未查询</translation>
    </message>
    <message>
        <source>Unknown: {why}</source>
        <translation>未知：{why}</translation>
    </message>
    <message>
        <source>{n} blobs ({size}) that no other answering node holds</source>
        <translation>{n} 个 Blob（{size}），其他应答节点均没有</translation>
    </message>
</context>
<context>
    <name>OpenStore</name>
    <message>
        <source>Open a content store</source>
        <translation>打开内容存储</translation>
    </message>
</context>
<context>
    <name>OpenTarget</name>
    <message>
        <source>Opening…</source>
        <translation>正在打开…</translation>
    </message>
    <message>
        <source>Could not open the store at {path}.</source>
        <translation>无法打开位于 {path} 的存储。</translation>
    </message>
    <message>
        <source>Check that the directory exists and that you may read it.</source>
        <translation>请检查该目录是否存在，以及您是否有读取权限。</translation>
    </message>
</context>
<context>
    <name>PlanText</name>
    <message>
        <source>{action} on {n} of {total} nodes ({size} in all)?</source>
        <translation>在 {total} 个节点中的 {n} 个上执行：{action}（共 {size}）？</translation>
    </message>
    <message>
        <source>{node}: {size} ({steps} steps)</source>
        <translation>{node}：{size}（{steps} 步）</translation>
    </message>
    <message>
        <source>{node}: nothing to do ({why})</source>
        <translation>{node}：无需操作（{why}）</translation>
    </message>
    <message>
        <source>nothing matches</source>
        <translation>没有匹配项</translation>
    </message>
    <message>
        <source>{node}: will not be touched: {why}</source>
        <translation>{node}：不会被改动：{why}</translation>
    </message>
</context>
<context>
    <name>RecentStores</name>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
</context>
<context>
    <name>ReferencesBox</name>
    <message>
        <source>References</source>
        <translation>引用关系</translation>
    </message>
    <message>
        <source>Edge</source>
        <translation>引用名</translation>
    </message>
    <message>
        <source>Blob</source>
        <translation>Blob</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>种类</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Working out the image graph…</source>
        <translation>正在分析镜像引用图…</translation>
    </message>
    <message>
        <source>Parents ({n})</source>
        <translation>父项（{n}）</translation>
    </message>
    <message>
        <source>This blob is not in the store.</source>
        <translation>此 Blob 不在存储中。</translation>
    </message>
    <message>
        <source>Reachable: kept alive by {n} root(s).</source>
        <translation>可达：由 {n} 个根保留。</translation>
    </message>
    <message>
        <source>Unreferenced — reclaimable: no root reaches this blob, so containerd's garbage collector would remove it.</source>
        <translation>未引用 — 可回收：没有任何根可到达此 Blob，containerd 的垃圾回收会删除它。</translation>
    </message>
    <message>
        <source>Children ({n})</source>
        <translation>子项（{n}）</translation>
    </message>
    <message>
        <source>… {n} more</source>
        <translation>… 还有 {n} 个</translation>
    </message>
    <message>
        <source>This blob is a root: {reason}</source>
        <translation>此 Blob 是根：{reason}</translation>
    </message>
    <message>
        <source>Kept alive by ({n})</source>
        <translation>由以下根保留（{n}）</translation>
    </message>
    <message>
        <source>(no references to or from this blob)</source>
        <translation>（没有指向或来自此 Blob 的引用）</translation>
    </message>
    <message>
        <source>missing</source>
        <translation>缺失</translation>
    </message>
    <message>
        <source>Not in the store (referenced, but missing).</source>
        <translation>不在存储中（被引用，但缺失）。</translation>
    </message>
    <message>
        <source>from: {sources}</source>
        <translation>来源：{sources}</translation>
    </message>
</context>
<context>
    <name>RemoveGcRoot</name>
    <message>
        <source>The selected item's chain does not start at a blob labelled containerd.io/gc.root.</source>
        <translation>所选项目的引用链并非始于带有 containerd.io/gc.root 标签的 Blob。</translation>
    </message>
    <message>
        <source>Remove the label containerd.io/gc.root from blob {digest} ({size}) in namespace {ns}? Unless something else keeps it, the next garbage collection frees it and what only it references.</source>
        <translation>从命名空间 {ns} 中的 Blob {digest}（{size}）上移除 containerd.io/gc.root 标签？除非还有其他东西保留它，下一次垃圾回收将释放它以及只被它引用的内容。</translation>
    </message>
    <message>
        <source>Remove gc.root label</source>
        <translation>移除 gc.root 标签</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>未做任何更改。</translation>
    </message>
    <message>
        <source>Label containerd.io/gc.root removed from {digest}.</source>
        <translation>已从 {digest} 移除 containerd.io/gc.root 标签。</translation>
    </message>
    <message>
        <source>Removing the label of {digest} failed.</source>
        <translation>移除 {digest} 的标签失败。</translation>
    </message>
</context>
<context>
    <name>RemoveLease</name>
    <message>
        <source>Select a lease, or an item whose chain starts at a lease (an expired lease goes with the next collection anyway).</source>
        <translation>请选择一个租约，或引用链始于租约的项目（过期的租约会在下一次回收时被移除）。</translation>
    </message>
    <message>
        <source>Remove lease {lease} in namespace {ns}? What only it keeps, {n} record(s) of {size}, is freed by the next garbage collection.</source>
        <translation>移除命名空间 {ns} 中的租约 {lease}？只被它保留的 {n} 条记录（{size}）将在下一次垃圾回收时释放。</translation>
    </message>
    <message>
        <source>Remove lease</source>
        <translation>移除租约</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>未做任何更改。</translation>
    </message>
    <message>
        <source>Lease {lease} removed; {size} is freed by the next garbage collection.</source>
        <translation>已移除租约 {lease}；下一次垃圾回收将释放 {size}。</translation>
    </message>
    <message>
        <source>Removing lease {lease} failed.</source>
        <translation>移除租约 {lease} 失败。</translation>
    </message>
    <message>
        <source>Reading what lease {lease} keeps failed.</source>
        <translation>读取租约 {lease} 保留的内容失败。</translation>
    </message>
</context>
<context>
    <name>RemoveLeaseOnNodes</name>
    <message>
        <source>Remove a lease</source>
        <translation>移除租约</translation>
    </message>
    <message>
        <source>Lease id to remove on the selected nodes:</source>
        <translation>要在所选节点上移除的租约 ID：</translation>
    </message>
</context>
<context>
    <name>Reporter</name>
    <message>
        <source>Blobscope</source>
        <translation>Blobscope</translation>
    </message>
</context>
<context>
    <name>RunGarbageCollection</name>
    <message>
        <source>blobs</source>
        <translation>Blob</translation>
    </message>
    <message>
        <source>snapshots</source>
        <translation>快照</translation>
    </message>
    <message>
        <source>leases</source>
        <translation>租约</translation>
    </message>
    <message>
        <source>ingests</source>
        <translation>写入</translation>
    </message>
    <message>
        <source>{kind}: {n} record(s), {size}</source>
        <translation>{kind}：{n} 条记录，{size}</translation>
    </message>
    <message>
        <source>Ask containerd for a garbage collection now? The dry run predicts it frees {size}:</source>
        <translation>现在请求 containerd 执行垃圾回收？模拟运行预测将释放 {size}：</translation>
    </message>
    <message>
        <source>Every namespace is collected. The picture is live: a pull or a delete meanwhile can change what goes.</source>
        <translation>所有命名空间都会被回收。画面是实时的：期间的拉取或删除可能改变被回收的内容。</translation>
    </message>
    <message>
        <source>Run garbage collection</source>
        <translation>执行垃圾回收</translation>
    </message>
    <message>
        <source>Collect</source>
        <translation>回收</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>未做任何更改。</translation>
    </message>
    <message>
        <source>The garbage collection failed.</source>
        <translation>垃圾回收失败。</translation>
    </message>
    <message>
        <source>{kind}: predicted {p_n} record(s), {p_size}; measured {m_n} record(s), {m_size}</source>
        <translation>{kind}：预测 {p_n} 条记录，{p_size}；实测 {m_n} 条记录，{m_size}</translation>
    </message>
    <message>
        <source>Garbage collection done: measured {measured} freed, predicted {predicted}.</source>
        <translation>垃圾回收完成：实测释放 {measured}，预测 {predicted}。</translation>
    </message>
    <message>
        <source>{n} record(s) differ from the prediction: the live picture moved meanwhile.</source>
        <translation>{n} 条记录与预测不同：期间实时画面发生了变化。</translation>
    </message>
    <message>
        <source>Garbage collection</source>
        <translation>垃圾回收</translation>
    </message>
    <message>
        <source>Predicting the garbage collection failed.</source>
        <translation>预测垃圾回收失败。</translation>
    </message>
</context>
<context>
    <name>SelectBlob</name>
    <message>
        <source>Blob {digest} is not in the store: something references it, but its content is missing.</source>
        <translation>Blob {digest} 不在存储中：有内容引用了它，但其数据缺失。</translation>
    </message>
    <message>
        <source>The filter was cleared to show {short}.</source>
        <translation>已清除筛选条件以显示 {short}。</translation>
    </message>
</context>
<context>
    <name>SelectUnreferenced</name>
    <message>
        <source>The image graph is still being built; try again in a moment.</source>
        <translation>镜像引用图仍在构建中，请稍后再试。</translation>
    </message>
    <message>
        <source>No unreferenced blobs: every blob is reachable from an image or a gc.root label.</source>
        <translation>没有未引用的 Blob：每个 Blob 都可从某个镜像或 gc.root 标签到达。</translation>
    </message>
    <message>
        <source>Showing and selecting only the {n} unreferenced blob(s), {size}. Delete removes them; Enter in the empty filter box shows every blob again.</source>
        <translation>仅显示并选择 {n} 个未引用的 Blob，共 {size}。删除操作会移除它们；在空的筛选框中按回车可重新显示全部 Blob。</translation>
    </message>
    <message>
        <source>Selected {n} unreferenced blob(s), {size}. Delete removes them.</source>
        <translation>已选择 {n} 个未引用的 Blob，共 {size}。删除操作会移除它们。</translation>
    </message>
</context>
<context>
    <name>SourcesController</name>
    <message>
        <source>&amp;Sources…</source>
        <translation>来源(&amp;S)…</translation>
    </message>
    <message>
        <source>Keep a list of stores and containerd daemons, and switch between them</source>
        <translation>保存存储和 containerd 守护进程的列表，并在它们之间切换</translation>
    </message>
    <message>
        <source>&amp;Compare with…</source>
        <translation>比较(&amp;C)…</translation>
    </message>
    <message>
        <source>Show the blobs this source has and another lacks, and the other way round</source>
        <translation>显示此来源有而另一来源没有的 Blob，反之亦然</translation>
    </message>
    <message>
        <source>S&amp;ources</source>
        <translation>来源(&amp;O)</translation>
    </message>
    <message>
        <source>Saved sources: pick one to switch to it</source>
        <translation>已保存的来源：选择一个即可切换</translation>
    </message>
    <message>
        <source>Source:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <source>Sources…</source>
        <translation>来源…</translation>
    </message>
    <message>
        <source>connection lost</source>
        <translation>连接已断开</translation>
    </message>
    <message>
        <source>(not in the list)</source>
        <translation>（不在列表中）</translation>
    </message>
    <message>
        <source>containerd is running</source>
        <translation>containerd 正在运行</translation>
    </message>
    <message>
        <source>{root} belongs to a containerd daemon that is running now.</source>
        <translation>{root} 属于一个正在运行的 containerd 守护进程。</translation>
    </message>
    <message>
        <source>Reading its files behind its back can show a half-written state, and changing them corrupts the daemon's view. Connect through its socket {address} instead? (Cancel shows the files read-only.)</source>
        <translation>绕过它直接读取文件可能看到写了一半的状态，修改文件会破坏守护进程的视图。改为通过它的套接字 {address} 连接吗？（取消则以只读方式显示文件。）</translation>
    </message>
    <message>
        <source>Connect through the socket</source>
        <translation>通过套接字连接</translation>
    </message>
    <message>
        <source>Opening…</source>
        <translation>正在打开…</translation>
    </message>
    <message>
        <source>Could not open {target}.</source>
        <translation>无法打开 {target}。</translation>
    </message>
    <message>
        <source>Check the address and that the daemon runs; Sources… edits the list.</source>
        <translation>请检查地址以及守护进程是否在运行；“来源…”可编辑列表。</translation>
    </message>
    <message>
        <source>containerd at {address} does not answer</source>
        <translation>{address} 上的 containerd 没有响应</translation>
    </message>
    <message>
        <source>Lost the connection: {why}. Reconnecting by itself; F5 tries at once.</source>
        <translation>连接已断开：{why}。正在自动重连；按 F5 立即重试。</translation>
    </message>
    <message>
        <source>Connected again to {source}.</source>
        <translation>已重新连接到 {source}。</translation>
    </message>
    <message>
        <source>Could not open the fleet file {path}.</source>
        <translation>无法打开集群文件 {path}。</translation>
    </message>
    <message>
        <source>Fleet</source>
        <translation>集群</translation>
    </message>
</context>
<context>
    <name>SourcesDialog</name>
    <message>
        <source>Sources</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>/path/to/store, unix:///run/containerd/containerd.sock, tcp://host:port, ssh://user@host or a fleet file</source>
        <translation>/path/to/store、unix:///run/containerd/containerd.sock、tcp://host:port、ssh://user@host 或集群文件</translation>
    </message>
    <message>
        <source>optional display name, e.g. node-3</source>
        <translation>可选的显示名称，例如 node-3</translation>
    </message>
    <message>
        <source>CA certificate (PEM), tcp:// only</source>
        <translation>CA 证书（PEM），仅用于 tcp://</translation>
    </message>
    <message>
        <source>client certificate (PEM)</source>
        <translation>客户端证书（PEM）</translation>
    </message>
    <message>
        <source>client key (PEM)</source>
        <translation>客户端密钥（PEM）</translation>
    </message>
    <message>
        <source>~/.ssh/config (ssh's own) — used by ssh:// and fleets</source>
        <translation>~/.ssh/config（ssh 自己的）— 用于 ssh:// 和集群</translation>
    </message>
    <message>
        <source>Directory or address:</source>
        <translation>目录或地址：</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Namespace:</source>
        <translation>命名空间：</translation>
    </message>
    <message>
        <source>TLS CA:</source>
        <translation>TLS CA：</translation>
    </message>
    <message>
        <source>TLS certificate:</source>
        <translation>TLS 证书：</translation>
    </message>
    <message>
        <source>TLS key:</source>
        <translation>TLS 密钥：</translation>
    </message>
    <message>
        <source>SSH config file:</source>
        <translation>SSH 配置文件：</translation>
    </message>
    <message>
        <source>Add / Update</source>
        <translation>添加 / 更新</translation>
    </message>
    <message>
        <source>Directory…</source>
        <translation>目录…</translation>
    </message>
    <message>
        <source>Fleet File…</source>
        <translation>集群文件…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Give a directory or an address.</source>
        <translation>请输入一个目录或地址。</translation>
    </message>
    <message>
        <source>{target}: use unix://, tcp:// or ssh:// addresses, a directory or a fleet file.</source>
        <translation>{target}：请使用 unix://、tcp:// 或 ssh:// 地址、目录或集群文件。</translation>
    </message>
    <message>
        <source>TLS settings are for tcp:// addresses only.</source>
        <translation>TLS 设置仅适用于 tcp:// 地址。</translation>
    </message>
    <message>
        <source>The TLS certificate and key go together.</source>
        <translation>TLS 证书和密钥必须同时提供。</translation>
    </message>
    <message>
        <source>There is no file {path}.</source>
        <translation>文件 {path} 不存在。</translation>
    </message>
    <message>
        <source>Choose a fleet file (ssh:// lines, INI or YAML inventory)</source>
        <translation>选择集群文件（ssh:// 行、INI 或 YAML 清单）</translation>
    </message>
    <message>
        <source>Choose a store or containerd root</source>
        <translation>选择一个存储或 containerd 根目录</translation>
    </message>
</context>
<context>
    <name>TreemapWidget</name>
    <message>
        <source>Disk treemap</source>
        <translation>磁盘矩形树图</translation>
    </message>
</context>
<context>
    <name>Verify</name>
    <message>
        <source>Verifying %v of %m</source>
        <translation>正在校验 %v / %m</translation>
    </message>
    <message>
        <source>Verified {n} blob(s): {bad} mismatch(es).</source>
        <translation>已校验 {n} 个 Blob：{bad} 个不符。</translation>
    </message>
    <message>
        <source>Verification</source>
        <translation>校验</translation>
    </message>
    <message>
        <source>{n} blob(s) do not match their digest; they are marked in red.</source>
        <translation>{n} 个 Blob 与其摘要不符，已用红色标出。</translation>
    </message>
    <message>
        <source>Verification failed.</source>
        <translation>校验失败。</translation>
    </message>
</context>
<context>
    <name>w</name>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
</context>
<context>
    <name>win</name>
    <message>
        <source>Labels of {short}</source>
        <translation>{short} 的标签</translation>
    </message>
</context>
</TS>