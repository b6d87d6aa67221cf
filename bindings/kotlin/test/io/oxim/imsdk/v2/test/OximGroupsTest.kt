package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** Groups from Kotlin: create/join/quit, the group listener, and a mic-seat flow. */
class OximGroupsTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }

        fun login(user: String): V2TIMManager = server.login(user, "g-$user")
    }

    /** Records group callbacks as short strings. */
    class Events : V2TIMGroupListener() {
        val seen = LinkedBlockingQueue<String>()
        val attrs = LinkedBlockingQueue<Map<String, String>>()
        override fun onMemberEnter(groupID: String, memberList: List<V2TIMGroupMemberInfo>) {
            seen.add("enter:" + memberList.joinToString(",") { it.userID })
        }
        override fun onMemberLeave(groupID: String, member: V2TIMGroupMemberInfo) { seen.add("leave:" + member.userID) }
        override fun onGroupInfoChanged(groupID: String, changeInfos: List<V2TIMGroupChangeInfo>) {
            seen.add("info:" + changeInfos.joinToString(",") { "${it.type}=${it.value}" })
        }
        override fun onGroupAttributeChanged(groupID: String, groupAttributeMap: Map<String, String>) {
            attrs.add(groupAttributeMap)
        }

        fun next(prefix: String): String {
            while (true) {
                val s = seen.poll(15, TimeUnit.SECONDS) ?: fail("no $prefix callback").let { "" }
                if (s.startsWith(prefix)) return s
            }
        }
    }

    @Test
    fun createJoinQuitWithTheGroupListener(): Unit = runBlocking {
        val owner = login("k-owner")
        val guest = login("k-guest")
        val events = Events()
        owner.addGroupListener(events)

        val info = V2TIMGroupInfo().apply {
            groupType = V2TIMManager.GROUP_TYPE_PUBLIC
            groupName = "Kotlin club"
            groupAddOpt = V2TIMGroupInfo.V2TIM_GROUP_ADD_ANY
        }
        val groupID = owner.groupManager.createGroup(info, null)
        assertTrue(groupID.startsWith("@TGS#"))
        guest.joinGroup(groupID, "hello")
        assertEquals("enter:k-guest", events.next("enter"))
        owner.groupManager.setGroupInfo(V2TIMGroupInfo().apply {
            this.groupID = groupID
            notification = "be nice"
        })
        assertEquals("info:${V2TIMGroupChangeInfo.V2TIM_GROUP_INFO_CHANGE_TYPE_NOTIFICATION}=be nice", events.next("info"))

        val joined = guest.groupManager.getJoinedGroupList()
        assertEquals(listOf(groupID), joined.map { it.groupID })
        assertEquals(V2TIMGroupMemberFullInfo.V2TIM_GROUP_MEMBER_ROLE_MEMBER, joined[0].role)
        assertEquals("be nice", joined[0].notification)
        val members = owner.groupManager.getGroupMemberList(groupID, V2TIMGroupMemberFullInfo.V2TIM_GROUP_MEMBER_FILTER_ALL, 0)
        assertEquals(setOf("k-owner", "k-guest"), members.memberInfoList.map { it.userID }.toSet())
        assertEquals(0L, members.nextSeq)

        guest.quitGroup(groupID)
        assertEquals("leave:k-guest", events.next("leave"))
        val e = assertThrows(V2TIMException::class.java) { runBlocking { owner.quitGroup(groupID) } }
        assertEquals(10009, (e as V2TIMException).code)
        owner.removeGroupListener(events)
        owner.unInitSDK()
        guest.unInitSDK()
    }

    @Test
    fun micSeatsAreVersionChecked(): Unit = runBlocking {
        val host = login("k-host")
        val a = login("k-a")
        val b = login("k-b")
        val room = host.createGroup("AVChatRoom", "k-live", "Live")
        a.joinGroup(room, "")
        b.joinGroup(room, "")
        val events = Events()
        host.addGroupListener(events)

        host.groupManager.initGroupAttributes(room, mapOf("seat1" to "", "seat2" to ""))
        assertEquals(mapOf("seat1" to "", "seat2" to ""), events.attrs.poll(15, TimeUnit.SECONDS))
        assertEquals("", a.groupManager.getGroupAttributes(room, null)["seat1"])
        assertEquals("", b.groupManager.getGroupAttributes(room, listOf("seat1"))["seat1"])
        a.groupManager.setGroupAttributes(room, mapOf("seat1" to "k-a"))
        val conflict = assertThrows(V2TIMException::class.java) {
            runBlocking { b.groupManager.setGroupAttributes(room, mapOf("seat1" to "k-b")) }
        }
        assertEquals(10056, (conflict as V2TIMException).code)
        assertEquals(mapOf("seat1" to "k-a", "seat2" to ""), events.attrs.poll(15, TimeUnit.SECONDS))
        assertEquals("k-a", b.groupManager.getGroupAttributes(room, null)["seat1"])
        b.groupManager.setGroupAttributes(room, mapOf("seat2" to "k-b"))
        assertEquals(mapOf("seat1" to "k-a", "seat2" to "k-b"), events.attrs.poll(15, TimeUnit.SECONDS))
        for (sdk in listOf(host, a, b)) sdk.unInitSDK()
    }
}
